"""The email channel against a real SMTP server on loopback: delivered, refused, cut off, secret."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.configured import push_channels
from bot.channels.email import parse_smtp_url
from bot.channels.email.adapter import EmailChannel, make_email_channel
from bot.channels.outbound import Address
from bot.cli import main
from bot.settings import ConfigurationError, Settings
from dialogs.schema import Pack
from dialogs.types import Fact, Reply
from tests.bot.channels.console.test_adapter import REPORT, SUPERVISOR
from tests.conftest import FakeClock
from tests.smtp_server import SENDER, SmtpServer

MAILBOX = "federation@example.police.uk"
PASSWORD = "Sh33pdog-secret-4471"
REPLIES = [
    Reply(key="strings.association_notice", text="Op Hampshire, case OH-2026-0001: a colleague\nmore"),
    Reply(key="strings.leaflet_contacts", text="Contacts:", facts=(Fact(label="UNISON", value="0800"),)),
]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


def address(mailbox: str = MAILBOX) -> Address:
    return Address("email", "smtp", mailbox)


def channel(url: str, clock: FakeClock, timeout: float = 30.0) -> EmailChannel:
    return EmailChannel(parse_smtp_url(url), clock=clock, timeout=timeout)


def test_an_email_reaches_the_mailbox_with_subject_body_and_message_id(
    smtp: SmtpServer, clock: FakeClock
) -> None:
    delivery = asyncio.run(channel(smtp.url(), clock).send(address(), REPLIES, key="hampshire-nudge-7"))
    assert delivery.status == "sent"
    [received] = smtp.received
    assert (received.mail_from, received.rcpt_tos) == (SENDER, [MAILBOX])
    assert received.message["Subject"] == "Op Hampshire, case OH-2026-0001: a colleague"
    assert received.message["Message-ID"] == "<hampshire-nudge-7@example.police.uk>" == delivery.message_id
    assert "UNISON: 0800" in received.body and "more" in received.body


def test_the_urls_credentials_log_in_and_never_reach_a_log(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    server = SmtpServer(login=("bot", PASSWORD), tls_dir=tmp_path)
    try:
        caplog.set_level(logging.DEBUG)
        settings = Settings.from_env({"HAMPSHIRE_SMTP_URL": server.url(f"bot:{PASSWORD}@")})
        email = make_email_channel(settings, clock=clock)
        assert email is not None
        assert asyncio.run(email.send(address(), REPLIES)).status == "sent"
        assert server.logins == ["bot"] and len(server.received) == 1
        assert server.encrypted_logins == [True] and server.received[0].encrypted
        wrong = channel(server.url("bot:wrong@"), clock)
        assert asyncio.run(wrong.send(address(), REPLIES)).status == "failed"  # refused: tried again later
        assert PASSWORD not in repr(settings) + repr(email.server) + caplog.text
    finally:
        server.close()


def test_smtp_requires_starttls_and_sends_over_it(clock: FakeClock, tmp_path: Path) -> None:
    server = SmtpServer(tls_dir=tmp_path)
    try:
        url = server.url()
        assert "cafile=" in url and "starttls=" not in url
        assert asyncio.run(channel(url, clock).send(address(), REPLIES)).status == "sent"
        [received] = server.received
        assert received.encrypted and received.rcpt_tos == [MAILBOX]
        # Without the CA file the throwaway certificate is not trusted: nothing is sent.
        untrusted = channel(url.split("&cafile=")[0], clock)
        delivery = asyncio.run(untrusted.send(address(), REPLIES))
        assert delivery.status == "failed" and len(server.received) == 1
    finally:
        server.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_server_without_starttls_is_sent_nothing_and_no_credentials(
    smtp: SmtpServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    plain = SmtpServer(login=("bot", PASSWORD))  # offers no STARTTLS, takes logins in plain text
    try:
        for url in (plain.url(f"bot:{PASSWORD}@"), smtp.url()):
            required = url.replace("&starttls=off", "")
            delivery = asyncio.run(channel(required, clock).send(address(), REPLIES, key="hampshire-nudge-9"))
            assert (delivery.status, delivery.error) == ("failed", "NoStartTLS")
        assert (plain.logins, plain.received, smtp.received) == ([], [], [])
        [refusal] = [r for r in caplog.records if "STARTTLS" in r.getMessage()][:1]
        assert "\n" not in refusal.getMessage() and PASSWORD not in caplog.text
        # Plain text on loopback is allowed only when the URL says so, and then without credentials.
        assert asyncio.run(channel(smtp.url(), clock).send(address(), REPLIES)).status == "sent"
        assert not smtp.received[0].encrypted
    finally:
        plain.close()


def test_implicit_tls_is_tls_from_the_first_byte(clock: FakeClock, tmp_path: Path) -> None:
    server = SmtpServer(tls_dir=tmp_path)  # speaks STARTTLS: a TLS hello from the start fails
    try:
        url = server.url().replace("smtp://", "smtps://")
        delivery = asyncio.run(channel(url, clock, timeout=5).send(address(), REPLIES))
        assert delivery.status == "failed" and server.received == []
        parsed = parse_smtp_url(url)
        assert (parsed.implicit_tls, parsed.tls, parsed.cafile) == (True, True, str(server.cafile))
    finally:
        server.close()


def test_a_refused_mailbox_is_a_failure_to_try_again(smtp: SmtpServer, clock: FakeClock) -> None:
    smtp.refuse.add(MAILBOX)
    delivery = asyncio.run(channel(smtp.url(), clock).send(address(), REPLIES))
    assert (delivery.status, delivery.error, smtp.received) == ("failed", "SMTPRecipientsRefused", [])


def test_a_server_that_says_try_later_is_a_failure_to_try_again(smtp: SmtpServer, clock: FakeClock) -> None:
    smtp.script.append("451 4.3.0 Try again later")
    assert asyncio.run(channel(smtp.url(), clock).send(address(), REPLIES)).status == "failed"
    assert asyncio.run(channel(smtp.url(), clock).send(address(), REPLIES)).status == "sent"
    assert len(smtp.received) == 1


def test_a_server_that_is_down_is_a_failure_to_try_again(clock: FakeClock) -> None:
    server = SmtpServer()
    url = server.url()
    server.close()
    assert asyncio.run(channel(url, clock).send(address(), REPLIES)).status == "failed"


def test_a_conversation_cut_off_after_the_message_is_uncertain(smtp: SmtpServer, clock: FakeClock) -> None:
    """The message data went out and no answer came: it may have arrived, so it is not resent blindly."""
    smtp.hold_after_data()
    email = channel(smtp.url(), clock, timeout=0.5)
    delivery = asyncio.run(email.send(address(), REPLIES))
    smtp.release()
    assert delivery.status == "uncertain"
    assert asyncio.run(email.lookup(address(), "hampshire-nudge-1", since=clock())) == ("unknown", None)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example.police.uk?from=bot@example.police.uk", "smtp:// or smtps://"),
        ("smtp://mail.example.police.uk", "needs ?from="),
        ("smtp://mail.example.police.uk?from=not-an-address", "not an email address"),
        ("smtp://:25?from=bot@example.police.uk", "names no server"),
        (f"smtp://bot:{PASSWORD}@mail.example.police.uk:port?from=x@example.police.uk", "not a number"),
        (
            "smtp://mail.example.police.uk?from=bot@example.police.uk&starttls=off",
            "only for a server on this",
        ),
        ("smtp://mail.example.police.uk?from=bot@example.police.uk&starttls=maybe", "neither on nor off"),
        (
            f"smtp://bot:{PASSWORD}@127.0.0.1?from=bot@example.police.uk&starttls=off",
            "never sent unencrypted",
        ),
        (
            "smtps://mail.example.police.uk?from=bot@example.police.uk&starttls=off",
            "encrypted from the start",
        ),
        ("smtp://mail.example.police.uk?from=bot@example.police.uk&cafile=/nonexistent/ca.pem", "not a file"),
    ],
)
def test_an_unusable_url_is_refused_in_one_line_without_repeating_it(url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"HAMPSHIRE_SMTP_URL": url})
    message = str(refused.value)
    assert reason in message and "HAMPSHIRE_SMTP_URL" in message and "\n" not in message
    assert PASSWORD not in message and "mail.example" not in message


def test_ports_default_by_scheme_and_email_is_off_without_a_url(clock: FakeClock) -> None:
    plain = parse_smtp_url("smtp://relay.example.police.uk?from=bot@example.police.uk")
    tls = parse_smtp_url("smtps://u:p%40ss@relay.example.police.uk?from=bot@example.police.uk")
    assert (plain.port, plain.implicit_tls, plain.username) == (25, False, None)
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (465, True, "u", "p@ss")
    assert make_email_channel(Settings(), clock=clock) is None


def test_email_is_a_push_channel_only_when_configured(smtp: SmtpServer, pack: Pack) -> None:
    assert "email" not in push_channels(Settings(), pack=pack)
    configured = Settings.from_env({"HAMPSHIRE_SMTP_URL": smtp.url()})
    assert isinstance(push_channels(configured, pack=pack)["email"], EmailChannel)


def test_a_report_in_the_console_then_a_sweep_from_cron_emails_the_federation(
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`hampshire chat` then `hampshire nudge run-once`, configured by the environment alone."""
    database = f"sqlite:///{tmp_path / 'chat.db'}"
    monkeypatch.setenv("HAMPSHIRE_SMTP_URL", smtp.url())
    answers = [*REPORT[:-2], "yes", "1"]  # the colleague agrees to the Federation being told
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in answers)))
    assert main(["chat", "--as", SUPERVISOR, "--db", database]) == 0
    assert "Case OH-2026-0001 is open." in capsys.readouterr().out
    # Well after the report and outside quiet hours, whenever the test runs.
    assert main(["nudge", "run-once", "--now", "2099-01-01T10:00:00+00:00", "--db", database]) == 0
    [received] = smtp.received
    assert received.rcpt_tos == ["westmidlandspf@polfed.org"] and "OH-2026-0001" in received.body
