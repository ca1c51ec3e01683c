"""The email channel: the outbox's messages to a mailbox, sent over SMTP with aiosmtplib.

A message is the replies as plain text (facts as "label: value" lines), its subject the first line.
Each carries a Message-ID made from the outbox row's key, so a mail client shows a repeat as one.
The outcome is definite where SMTP allows: refused or unreachable before anything was accepted
is a failure to retry; a connection lost or timed out mid-conversation may have delivered it, so
it is `uncertain`, and as email cannot be asked afterwards the row is not sent again blindly.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
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

#: The error of a delivery refused because the server offers no STARTTLS.
_NO_STARTTLS = "NoStartTLS"


class _BeforeData(Exception):
    """The conversation failed before the message was offered: nothing was delivered."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(type(error).__name__)
        self.error = error


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
    reads_back = False

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
            if not await self._deliver(message):
                log.warning(messages.email_no_starttls(key))
                return Delivery("failed", error=_NO_STARTTLS)
        except _BeforeData as before:
            name = type(before.error).__name__
            log.warning(messages.email_not_sent(key, name))
            return Delivery("failed", error=name)
        except _NOT_SENT as error:
            log.warning(messages.email_not_sent(key, type(error).__name__))
            return Delivery("failed", error=type(error).__name__)
        except (aiosmtplib.SMTPException, OSError) as error:
            log.warning(messages.email_uncertain(key, type(error).__name__))
            return Delivery("uncertain", error=type(error).__name__)
        return Delivery("sent", message_id=str(message["Message-ID"]))

    async def _deliver(self, message: EmailMessage) -> bool:
        """Send `message`; False when TLS is required and the server does not offer STARTTLS.

        Raises:
            _BeforeData: the conversation failed before the message was offered (nothing sent).
        """
        server = self.server
        context = ssl.create_default_context(cafile=server.cafile) if server.tls else None
        # STARTTLS is asked for here rather than left to the client, which would go on in plain
        # text when a server (or someone between) leaves it out of its EHLO answer.
        smtp = aiosmtplib.SMTP(
            hostname=server.host, port=server.port, use_tls=server.implicit_tls, start_tls=False,
            tls_context=context, timeout=self.timeout,
        )  # fmt: skip
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            raise _BeforeData(error) from error
        try:
            try:
                if server.tls and not server.implicit_tls:
                    await smtp.ehlo()
                    if not smtp.supports_extension("starttls"):
                        return False
                    await smtp.starttls(tls_context=context)
                if server.username is not None:
                    await smtp.login(server.username, server.password or "")
            except (aiosmtplib.SMTPException, OSError) as error:
                raise _BeforeData(error) from error
            await smtp.send_message(message)
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()  # the message was accepted: a goodbye lost on the way changes nothing
        finally:
            if smtp.is_connected:
                smtp.close()
        return True

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
