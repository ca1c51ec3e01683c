"""Email: messages to people outside chat (a staff association's mailbox), over SMTP.

On when `HAMPSHIRE_SMTP_URL` is set: `smtp://[user:password@]host[:port]?from=ADDRESS` (STARTTLS
required: a server that does not offer it is not sent anything) or `smtps://…` (TLS from the
start, port 465 by default). `&cafile=PATH` names the certificates that sign the server's (a
force's own CA; the system's otherwise). `&starttls=off` sends in plain text, allowed only to a
server on this machine and never with credentials. A mailbox is a person with an identity on this
channel (its address), so the outbox reaches it like anyone else. Only `adapter` imports the SMTP
client; the URL's password never reaches a log or an error.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
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
    #: Whether the conversation is encrypted (smtps:// or STARTTLS); off only for a loopback server.
    tls: bool = True
    #: The certificates that sign the server's, when not the system's.
    cafile: str | None = None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name, [])
    if len(values) > 1:
        raise ValueError(f"has ?{name}= more than once")
    return values[0] if values else None


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
    query = parse_qs(parts.query)
    senders = query.get("from", [])
    if len(senders) != 1:
        raise ValueError("needs ?from=ADDRESS, the address the bot's email comes from")
    try:
        sender = validate_email(senders[0], check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("has a ?from= that is not an email address") from None
    implicit = parts.scheme == "smtps"
    starttls = _one(query, "starttls")
    if starttls not in (None, "on", "off"):
        raise ValueError("has a ?starttls= that is neither on nor off")
    plain = starttls == "off"
    if plain and implicit:
        raise ValueError("has ?starttls=off with smtps://, which is encrypted from the start")
    if plain and not _loopback(parts.hostname):
        raise ValueError("may turn STARTTLS off only for a server on this machine: email leaves it encrypted")
    if plain and parts.username:
        raise ValueError("has credentials with ?starttls=off: they are never sent unencrypted")
    cafile = _one(query, "cafile")
    if cafile is not None and not Path(cafile).is_file():
        raise ValueError("has a ?cafile= that is not a file")
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        sender=sender,
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=not plain,
        cafile=cafile,
    )
