"""Tokens the SDK accepted, remembered until they expire (bot/channels/teams/accepted.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.channels.teams.accepted import AcceptedTokens
from bot.channels.teams.sdk import Verdict
from tests.conftest import FakeClock

SERVICE = "https://smba.trafficmanager.net/emea/"
HEADER = "Bearer eyJhbGciOiJSUzI1NiJ9.token-for-tests.signature"


def _activity(service_url: str = SERVICE, channel: str = "msteams") -> dict[str, Any]:
    return {"type": "message", "channelId": channel, "serviceUrl": service_url}


def _verdict(clock: FakeClock, *, lasts: timedelta = timedelta(hours=1), **claims: Any) -> Verdict:
    return Verdict({"exp": int((clock() + lasts).timestamp()), **claims}, result=object())


def test_an_acceptance_is_reused_for_the_same_header_channel_and_service_url_alone() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock)
    verdict = _verdict(clock)
    accepted.add(HEADER, _activity(), verdict)
    assert accepted.get(HEADER, _activity()) is verdict
    assert accepted.get(HEADER + "x", _activity()) is None
    assert accepted.get(HEADER, _activity(channel="webchat")) is None
    assert accepted.get(HEADER, _activity("https://smba.trafficmanager.net/uk/")) is None


def test_an_acceptance_ends_when_its_token_expires_or_after_keep_whichever_is_first() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock, keep=timedelta(minutes=5))
    accepted.add(HEADER, _activity(), _verdict(clock, lasts=timedelta(minutes=2)))
    clock.advance(seconds=119)
    assert accepted.get(HEADER, _activity()) is not None
    clock.advance(seconds=1)
    assert accepted.get(HEADER, _activity()) is None  # the token's exp

    accepted.add(HEADER, _activity(), _verdict(clock))
    clock.advance(minutes=4, seconds=59)
    assert accepted.get(HEADER, _activity()) is not None
    clock.advance(seconds=1)
    assert accepted.get(HEADER, _activity()) is None  # `keep`, though the token lasts an hour


def test_a_verdict_without_a_usable_expiry_or_already_expired_is_never_remembered() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock)
    for claims in ({}, {"exp": "4000000000"}, {"exp": True}):
        accepted.add(HEADER, _activity(), Verdict(claims))
        assert accepted.get(HEADER, _activity()) is None
    accepted.add(HEADER, _activity(), _verdict(clock, lasts=timedelta(seconds=-1)))
    assert accepted.get(HEADER, _activity()) is None
    # Beyond the calendar: remembered for `keep`, not for ever.
    accepted.add(HEADER, _activity(), Verdict({"exp": 10**20}))
    assert accepted.get(HEADER, _activity()) is not None
    clock.advance(minutes=4, seconds=59)
    assert accepted.get(HEADER, _activity()) is not None
    clock.advance(seconds=1)
    assert accepted.get(HEADER, _activity()) is None


def test_what_was_judged_is_told_apart_exactly_a_missing_service_url_from_the_text_none() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock)
    accepted.add(HEADER, {"channelId": "msteams"}, _verdict(clock))
    assert accepted.get(HEADER, {"channelId": "msteams", "serviceUrl": "None"}) is None
    assert accepted.get(HEADER, {"channelId": "msteams", "serviceUrl": None}) is not None


def test_at_most_size_acceptances_are_kept_the_least_recently_used_going_first() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock, size=2)
    for n in range(2):
        accepted.add(f"{HEADER}{n}", _activity(), _verdict(clock))
    assert accepted.get(f"{HEADER}0", _activity()) is not None  # 0 used since 1
    accepted.add(f"{HEADER}2", _activity(), _verdict(clock))
    assert accepted.get(f"{HEADER}1", _activity()) is None
    assert accepted.get(f"{HEADER}0", _activity()) is not None
    assert accepted.get(f"{HEADER}2", _activity()) is not None


def test_no_token_is_kept_in_memory_only_its_digest() -> None:
    clock = FakeClock()
    accepted = AcceptedTokens(clock=clock)
    accepted.add(HEADER, _activity(), _verdict(clock))
    kept = vars(accepted)["_verdicts"]
    assert all(isinstance(key, bytes) and len(key) == 32 for key in kept)
    assert "token-for-tests" not in repr(kept)
