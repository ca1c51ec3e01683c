"""Email: messages to people outside chat (a staff association's mailbox), over SMTP.

On when `HAMPSHIRE_SMTP_URL` is set: `smtp://[user:password@]host[:port]?from=ADDRESS` (STARTTLS
whenever the server offers it) or `smtps://…` (TLS from the start, port 465 by default). A mailbox
is a person with an identity on this channel (its address), so the outbox reaches it like anyone
else. Only `adapter` imports the SMTP client; the URL's password never reaches a log or an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

__all__ = ["EMAIL", "MAILBOX_TENANT", "SmtpServer", "parse_smtp_url"]

#: The channel's name, as identities and outbox rows record it.
EMAIL = "email"
#: The tenant of every mailbox identity (email has no workspaces).
MAILBOX_TENANT = "smtp"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send email; `repr` leaves the password out."""

    host: str
    port: int
    sender: str
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpServer:
    """The server a `HAMPSHIRE_SMTP_URL` names.

    Raises:
        ValueError: a one-line reason that never repeats the URL (it may hold a password).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start smtp:// or smtps://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    if not parts.hostname:
        raise ValueError("names no server")
    senders = parse_qs(parts.query).get("from", [])
    if len(senders) != 1:
        raise ValueError("needs ?from=ADDRESS, the address the bot's email comes from")
    try:
        sender = validate_email(senders[0], check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("has a ?from= that is not an email address") from None
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        sender=sender,
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
