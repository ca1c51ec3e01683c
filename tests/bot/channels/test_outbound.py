"""The shared send seam: Retry-After honoured, transient failures retried, no silent drops."""

from __future__ import annotations

import asyncio

from bot.channels.outbound import Attempt, Delivery, RetryPolicy, send_with_retry


def run(attempts: list[Attempt], policy: RetryPolicy | None = None) -> tuple[Delivery, list[float], int]:
    slept: list[float] = []
    calls = {"n": 0}

    async def attempt() -> Attempt:
        result = attempts[min(calls["n"], len(attempts) - 1)]
        calls["n"] += 1
        return result

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    delivery = asyncio.run(
        send_with_retry(attempt, policy=policy or RetryPolicy(), sleep=sleep, jitter=lambda: 0.5)
    )
    return delivery, slept, calls["n"]


def test_success_first_time() -> None:
    assert run([Attempt(200, message_id="m1")]) == (Delivery("sent", message_id="m1", attempts=1), [], 1)


def test_retry_after_is_honoured_exactly() -> None:
    delivery, slept, calls = run(
        [Attempt(429, retry_after=7), Attempt(429, retry_after=2), Attempt(200, "m")]
    )
    assert (delivery.status, slept, calls) == ("sent", [7, 2], 3)


def test_transient_errors_back_off_exponentially() -> None:
    delivery, slept, _ = run([Attempt(503), Attempt(502), Attempt(412), Attempt(200, "m")])
    assert delivery.status == "sent" and slept == [0.5, 1.0, 2.0]


def test_a_permanent_error_is_not_retried_and_is_reported() -> None:
    delivery, slept, calls = run([Attempt(403, error="not_allowed")])
    assert (delivery, slept, calls) == (Delivery("failed", error="not_allowed", attempts=1), [], 1)


def test_giving_up_is_reported_not_silent() -> None:
    delivery, slept, calls = run([Attempt(503)], RetryPolicy(attempts=3))
    assert (delivery.status, delivery.error, calls, len(slept)) == ("failed", "http 503", 3, 2)


def test_a_send_that_may_have_arrived_is_uncertain_and_not_sent_again_blind() -> None:
    # Sending again at once could deliver it twice: the outbox looks it up before any resend.
    delivery, slept, calls = run([Attempt(0, sent=True, error="timeout"), Attempt(201, message_id="m2")])
    assert (delivery.status, slept, calls) == ("uncertain", [], 1)


def test_an_unreasonable_retry_after_hands_back_to_the_outbox() -> None:
    delivery, slept, calls = run([Attempt(429, retry_after=3600)])
    assert (delivery.status, slept, calls) == ("failed", [], 1)
