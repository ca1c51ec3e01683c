"""The email channel: the outbox's messages to a mailbox, sent over SMTP with aiosmtplib.

A message is the replies as plain text (facts as "label: value" lines), its subject the first line.
Each carries a Message-ID made from the outbox row's key, so a mail client shows a repeat as one.
The outcome is definite where SMTP allows: refused or unreachable before anything was accepted
is a failure to retry; a connection lost or timed out mid-conversation may have delivered it, so
it is `uncertain`, and as email cannot be asked afterwards the row is not sent again blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from bot import messages
from bot.channels.email import EMAIL, SmtpServer, parse_smtp_url
from bot.channels.outbound import Address, Delivery, Found, Pace
from bot.clock import Clock, system_clock
from bot.reminders.ratelimit import Limit
from bot.settings import Settings, revealed
from dialogs.types import Reply

__all__ = ["EmailChannel", "compose", "make_email_channel"]

log = logging.getLogger(__name__)

_SUBJECT_LENGTH = 150
#: Refusals before any message data was accepted: nothing was delivered, so trying again is safe.
_NOT_SENT = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPConnectTimeoutError,
    aiosmtplib.SMTPConnectResponseError,
    aiosmtplib.SMTPHeloError,
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPRecipientRefused,
    aiosmtplib.SMTPNotSupported,
    aiosmtplib.SMTPDataError,
    ConnectionRefusedError,
)


def _text(reply: Reply) -> str:
    lines = [reply.text, *(f"{fact.label}: {fact.value}" for fact in reply.facts)]
    return "\n".join(line for line in lines if line)


def compose(
    server: SmtpServer, to: str, replies: Sequence[Reply], *, key: str | None, now: datetime
) -> EmailMessage:
    """The email for `replies` to `to`: subject from the first line, the replies as the body."""
    body = "\n\n".join(_text(reply) for reply in replies)
    first = body.strip().splitlines()[0] if body.strip() else ""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = first[:_SUBJECT_LENGTH]
    message["Date"] = format_datetime(now)
    domain = server.sender.rsplit("@", 1)[-1]
    message["Message-ID"] = f"<{key}@{domain}>" if key else make_msgid(domain=domain)
    message.set_content(body)
    return message


class EmailChannel:
    """Sends the outbox's messages to mailboxes (`Address.user_id` is the address)."""

    name = EMAIL

    def __init__(self, server: SmtpServer, *, clock: Clock = system_clock, timeout: float = 30.0) -> None:
        self.server = server
        self.clock = clock
        self.timeout = timeout

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Send one email; sent, failed (nothing was accepted: retry) or uncertain."""
        if pace is not None:
            await pace()
        message = compose(self.server, address.user_id, replies, key=key, now=self.clock())
        try:
            await aiosmtplib.send(
                message,
                hostname=self.server.host,
                port=self.server.port,
                username=self.server.username,
                password=self.server.password,
                use_tls=self.server.implicit_tls,
                timeout=self.timeout,
            )
        except _NOT_SENT as error:
            log.warning(messages.email_not_sent(key, type(error).__name__))
            return Delivery("failed", error=type(error).__name__)
        except (aiosmtplib.SMTPException, OSError) as error:
            log.warning(messages.email_uncertain(key, type(error).__name__))
            return Delivery("uncertain", error=type(error).__name__)
        return Delivery("sent", message_id=str(message["Message-ID"]))

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Email cannot be asked whether a message arrived."""
        return "unknown", None

    def limits(self, address: Address) -> Sequence[Limit]:
        """A modest pace per server, which any relay accepts."""
        return [Limit(f"email:{self.server.host}", 30, 60.0)]


def make_email_channel(settings: Settings, *, clock: Clock = system_clock) -> EmailChannel | None:
    """The email channel, or None when `HAMPSHIRE_SMTP_URL` is not set."""
    url = revealed(settings.smtp_url)
    return EmailChannel(parse_smtp_url(url), clock=clock) if url else None
