"""A real SMTP server on loopback (aiosmtpd) for the email channel's tests.

It runs on its own event loop in a thread, on a port the OS picks, and records each message it
accepts. `script` lists replies to give to the next messages instead of accepting them (e.g.
"451 4.3.0 Try again later"); `hang` makes it keep the conversation open after the message data
until the test lets it go, as a server that dies mid-conversation would look to the client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["Received", "SmtpServer", "self_signed"]

SENDER = "op-hampshire@example.police.uk"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: Message
    #: Whether the conversation was encrypted when the message came.
    encrypted: bool = False

    @property
    def body(self) -> str:
        """The plain-text body."""
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.server.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.server.hang is not None:
            await self.server.hang.wait()
            return "421 4.3.0 Going away"
        if self.server.script:
            return self.server.script.pop(0)
        content = envelope.original_content or b""
        self.server.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                message_from_bytes(content),
                encrypted=session.ssl is not None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key, written to `directory`: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.example.police.uk")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class SmtpServer:
    """An SMTP server on 127.0.0.1, started in a thread; `close()` stops it.

    With `tls_dir`, it offers STARTTLS with a throwaway certificate made there (`cafile`) and takes
    credentials only after it; without, it speaks plain text and its `url` says `starttls=off`.
    """

    def __init__(self, *, login: tuple[str, str] | None = None, tls_dir: Path | None = None) -> None:
        self.cafile: Path | None = None
        self.tls_context: ssl.SSLContext | None = None
        if tls_dir is not None:
            self.cafile, key_file = self_signed(tls_dir)
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.load_cert_chain(self.cafile, key_file)
        self.received: list[Received] = []
        self.script: list[str] = []
        self.refuse: set[str] = set()
        self.hang: asyncio.Event | None = None
        self.login = login
        self.logins: list[str] = []
        self.encrypted_logins: list[bool] = []
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "the SMTP server did not start"

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.login is None:
            return AuthResult(success=False, handled=False)
        self.logins.append(data.login.decode())
        self.encrypted_logins.append(session.ssl is not None)
        # Not `handled`: the server answers 235 or 535 itself.
        return AuthResult(success=(data.login.decode(), data.password.decode()) == self.login, handled=False)

    def _protocol(self) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname="mail.example.police.uk",
            auth_required=self.login is not None,
            auth_require_tls=self.tls_context is not None,
            tls_context=self.tls_context,
            authenticator=self._authenticate,
            loop=self.loop,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(self.loop.create_server(self._protocol, "127.0.0.1", 0))
        self.port = int(self.server.sockets[0].getsockname()[1])
        self._ready.set()
        self.loop.run_forever()

    def url(self, credentials: str = "") -> str:
        """A `HAMPSHIRE_SMTP_URL` for this server (`credentials`: "user:password@")."""
        tls = f"cafile={self.cafile}" if self.cafile is not None else "starttls=off"
        return f"smtp://{credentials}127.0.0.1:{self.port}?from={SENDER}&{tls}"

    def hold_after_data(self) -> None:
        """From now on, keep each conversation open after the message data until `release`."""
        self.hang = asyncio.Event()

    def release(self) -> None:
        """Let held conversations go."""
        if self.hang is not None:
            self.loop.call_soon_threadsafe(self.hang.set)

    def close(self) -> None:
        """Stop the server and its thread."""
        self.release()

        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()
