"""Tokens the SDK accepted, remembered for a few minutes: Bot Framework sends one token with many
activities, and the SDK validated it afresh for each.

A channel token is valid for about an hour and the connector reuses it for every activity it sends
the bot in that time. Validating it (PyJWT's checks of each base64 character, the RSA signature,
the SDK's claims and endorsements) cost 330-420 µs of CPU a Teams request (`bench/teams_token.py`),
about 2.5% of the servers' CPU under `bench/load.py`'s load.

What is remembered is a verdict the SDK gave and the endpoint's own channel checks then passed,
for exactly what was judged: the whole `Authorization` header, the activity's channel
(endorsements are per channel) and its service URL (Bot Framework's token names the one it is for),
under a SHA-256 digest so that the cache holds no token (the verdicts hold none either: see each
binding's `authenticate`). A verdict is reused until the token expires or `keep` has passed,
whichever is first. So a signing key withdrawn from Bot Framework's metadata is honoured for at
most `keep` longer than the SDK itself honours it (botbuilder until the bot's 12-hourly refresh of
its keys, the Agents SDK for up to 5 minutes). Only acceptances are remembered: a refused token is
validated, and refused, every time. The endpoint's tenant and service URL checks still run on every
request, on the remembered claims.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channels.teams.sdk import Verdict
from bot.clock import Clock

__all__ = ["AcceptedTokens"]


class AcceptedTokens:
    """The SDK's acceptances of tokens, for reuse until each expires (at most `keep`, `size` at once).

    Args:
        clock: the injected clock, read against the token's `exp` claim (seconds since the epoch).
        keep: the longest a verdict is reused, however long its token is valid.
        size: the most verdicts kept; the least recently used goes first.
    """

    def __init__(self, *, clock: Clock, keep: timedelta = timedelta(minutes=5), size: int = 1024) -> None:
        self.clock = clock
        self.keep = keep
        self.size = size
        self._verdicts: OrderedDict[bytes, tuple[datetime, Verdict]] = OrderedDict()

    @staticmethod
    def _key(header: str, body: Mapping[str, Any]) -> bytes:
        # JSON keeps apart what str() would not (a missing service URL and the text "None").
        judged = json.dumps([header, body.get("channelId"), body.get("serviceUrl")], default=repr)
        return hashlib.sha256(judged.encode("utf-8", "surrogatepass")).digest()

    def get(self, header: str, body: Mapping[str, Any]) -> Verdict | None:
        """The verdict the SDK gave this header for this activity's channel and service URL, if it
        accepted it and the token has not expired since (nor `keep` passed); else None."""
        key = self._key(header, body)
        found = self._verdicts.get(key)
        if found is None:
            return None
        until, verdict = found
        if self.clock() >= until:
            del self._verdicts[key]
            return None
        self._verdicts.move_to_end(key)
        return verdict

    def add(self, header: str, body: Mapping[str, Any], verdict: Verdict) -> None:
        """Remember the SDK's acceptance of `header` for this activity (not without an `exp` claim)."""
        expires = verdict.claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        now = self.clock()
        try:
            until = min(datetime.fromtimestamp(expires, UTC), now + self.keep)
        except (OverflowError, OSError, ValueError):  # beyond the calendar: valid for `keep`, then
            until = now + self.keep
        if until <= now:
            return
        key = self._key(header, body)
        self._verdicts[key] = (until, verdict)
        self._verdicts.move_to_end(key)
        while len(self._verdicts) > self.size:
            self._verdicts.popitem(last=False)
