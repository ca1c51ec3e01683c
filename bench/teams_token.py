"""Benchmark: the SDK validating a Teams request's token, against the acceptance remembered for it.

Bot Framework sends one channel token with every activity for about an hour, and the endpoint
remembers the SDK's acceptance of it (`bot.channels.teams.accepted`). For each Teams SDK
(botbuilder, the Microsoft 365 Agents SDK), in this process: the SDK's validation of a real signed
token (`Binding.authenticate`, keys published on loopback by tests/fake_teams.py's TokenIssuer, so
fetched once and cached as in production) is the baseline, and the endpoint's look-up of the
remembered acceptance the candidate. Rounds alternate after a warm-up; each times `--calls` calls
on the CPU clock. Prints the microseconds a call and the median of the per-round ratios; exits 1 if
a remembered acceptance costs more than a tenth of a validation. Not a test: run it with

    .venv/bin/python bench/teams_token.py [--calls 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.teams.accepted import AcceptedTokens  # noqa: E402
from bot.channels.teams.options import TeamsOptions  # noqa: E402
from bot.channels.teams.sdk import Sdk, make_binding  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fake_teams import TokenIssuer, new_guid  # noqa: E402

#: The remembered acceptance must cost at most this fraction of the SDK's validation (median round).
TARGET_RATIO = 0.1
SERVICE_URL = "http://127.0.0.1:9/"  # never called: only named in the token and the activity
#: A fixed time for the remembered acceptance (the SDK checks the token on the system's clock): a
#: long run must not see it expire.
NOW = datetime.now(UTC)


def _activity(binding: Any, tenant: str) -> tuple[dict[str, Any], Any]:
    body = {
        "type": "message",
        "id": new_guid(),
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": "29:bench", "aadObjectId": new_guid()},
        "recipient": {"id": "28:bench"},
        "conversation": {"id": "a:bench", "conversationType": "personal", "tenantId": tenant},
        "text": "menu",
    }
    return body, binding.read(body)


async def _run(sdk: Sdk, calls: int, rounds: int) -> tuple[float, float, float]:
    issuer = TokenIssuer(app_id=new_guid())
    issuer.start()
    try:
        tenant = new_guid()
        settings = Settings(
            microsoft_app_id=issuer.app_id,
            microsoft_app_password=f"bench-only-{new_guid()}",
            microsoft_app_tenant_id=tenant,
        )
        options = TeamsOptions(openid_metadata_url=issuer.metadata_url, outbound_token="bench-only")
        binding = make_binding(settings, "authenticated", options, lambda: NOW, sdk=sdk)
        body, activity = _activity(binding, tenant)
        header = f"Bearer {issuer.token(SERVICE_URL)}"
        accepted = AcceptedTokens(clock=lambda: NOW)
        verdict = await binding.authenticate(activity, header)
        if verdict is None:
            raise SystemExit(f"{sdk}: the SDK refused the bench's token")
        accepted.add(header, body, verdict)

        async def validate() -> None:
            assert await binding.authenticate(activity, header) is not None

        async def remembered() -> None:
            assert accepted.get(header, body) is not None

        async def timed(call: Any) -> float:
            start = time.process_time()
            for _ in range(calls):
                await call()
            return (time.process_time() - start) / calls * 1e6

        await timed(validate)  # warm-up
        await timed(remembered)
        base, ours, ratios = [], [], []
        for _ in range(rounds):
            b, o = await timed(validate), await timed(remembered)
            base.append(b)
            ours.append(o)
            ratios.append(o / b)
        return statistics.median(base), statistics.median(ours), statistics.median(ratios)
    finally:
        issuer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls timed together in a round")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds after a warm-up")
    args = parser.parse_args()
    print(f"{args.rounds} rounds of {args.calls} calls each, alternating, CPU time")
    sdks: tuple[Sdk, ...] = ("botbuilder", "agents")
    missed = False
    for sdk in sdks:
        base, ours, ratio = asyncio.run(_run(sdk, args.calls, args.rounds))
        missed |= ratio > TARGET_RATIO
        print(
            f"{sdk:<11} the SDK validating: {base:8.1f} us a request; remembered: {ours:6.2f} us "
            f"(median per-round ratio {ratio:.4f}, {base / ours:,.0f}x fewer)"
        )
    print(f"target: a remembered acceptance at most {TARGET_RATIO}x the SDK's validation: "
          f"{'missed' if missed else 'met'}")  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
