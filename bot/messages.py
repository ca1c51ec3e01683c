"""Log text, kept out of control flow. Log lines carry ids and kinds, never what people said."""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from typing import Any

__all__ = [
    "background_failed",
    "delivery_lost_claim",
    "delivery_failed",
    "delivery_raised",
    "lease_renewal_failed",
    "delivery_unconfirmed",
    "delivery_withdrawn",
    "evidence_failed",
    "send_gave_up",
    "send_retrying",
    "sweep_nobody",
    "sweep_not_escalated",
    "sweep_not_reminded",
    "tick_done",
    "tick_failed",
    "pruned",
    "prune_failed",
    "inbox_duplicate",
    "inbox_slow",
    "inbox_unavailable",
    "slack_api_failed",
    "slack_delivery_failed",
    "slack_refused",
    "slack_rejected",
    "slack_retry",
    "where_it_failed",
    "state_conflict",
    "state_quarantined",
    "state_stale",
    "turn_failed",
    # Microsoft Teams
    "serve_listening",
    "serve_loopback_only",
    "slack_off",
    "slack_on",
    "teams_activity",
    "teams_flag_ignored",
    "teams_installation",
    "teams_member_lookup_failed",
    "teams_off",
    "teams_on",
    "teams_refused",
    "teams_reply_failed",
    "teams_send_failed",
    "teams_signing_keys_failed",
    "teams_token_rejected",
    "teams_unauthenticated",
    "work_failed",
    "work_given_up",
    "work_recovered",
]


def state_conflict(attempt: int) -> str:
    return f"dialog state changed under this turn; retrying (attempt {attempt})"


def state_quarantined(person_id: int) -> str:
    return f"unreadable dialog state quarantined for person {person_id}; conversation restarted"


def state_stale(flow: str | None, step: str | None) -> str:
    return f"stored dialog points at {flow}.{step}, which the pack no longer has; restarting the flow"


def turn_failed(channel: str, error: BaseException) -> str:
    return f"turn on {channel} failed with {type(error).__name__} at {where_it_failed(error)}"


def where_it_failed(error: BaseException) -> str:
    """The frames of a failure (file, line, function), without its message or any values.

    Exception messages can quote the data being processed (a database error quotes its row), so
    only the location is logged.
    """
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-8:]))


# --- Microsoft Teams ---------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9:._@/+=-]")


def _id(value: object) -> str:
    """An id from a request, safe to log: it may come from anyone, before authentication."""
    return _UNSAFE.sub("?", str(value))[:100]


def teams_off() -> str:
    return (
        "Microsoft Teams is off: MICROSOFT_APP_ID is not set, so POST /api/messages refuses every "
        "request (HAMPSHIRE_ALLOW_UNAUTHENTICATED=1 serves a local Teams client instead)"
    )


def teams_on(tenant: str) -> str:
    return f"Microsoft Teams is on: every request's token is validated and only tenant {tenant} is served"


def teams_unauthenticated() -> str:
    return (
        "Microsoft Teams WITHOUT AUTHENTICATION (HAMPSHIRE_ALLOW_UNAUTHENTICATED=1, no MICROSOFT_APP_ID): "
        "for a local Teams client only; only loopback service URLs are answered"
    )


def teams_flag_ignored() -> str:
    return "HAMPSHIRE_ALLOW_UNAUTHENTICATED is ignored for Teams because MICROSOFT_APP_ID is set"


def serve_listening(host: str, port: int) -> str:
    return f"listening on http://{host}:{port}: POST /slack/events, POST /api/messages, GET /healthz"


def slack_off(reason: str) -> str:
    return (
        f"Slack is off: {reason}, so POST /slack/events answers 503 "
        "(set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_TEAM_ID, or run `hampshire slack-socket`)"
    )


def slack_on(team: str) -> str:
    return f"Slack is on: POST /slack/events takes signed requests from workspace {_id(team)} only"


def serve_loopback_only(host: str) -> str:
    return f"HAMPSHIRE_ALLOW_UNAUTHENTICATED=1: listening on 127.0.0.1 only, not {host}"


def teams_activity(kind: str | None, activity_id: str | None) -> str:
    return f"teams {_id(kind)} activity {_id(activity_id)}"


def teams_refused(status: int, reason: str, activity_id: object) -> str:
    return f"teams request refused with {status} ({reason}); activity {_id(activity_id)}"


def teams_token_rejected(activity_id: str | None, error: BaseException) -> str:
    return f"teams token rejected for activity {_id(activity_id)}: {type(error).__name__}"


def teams_signing_keys_failed(error: BaseException) -> str:
    return f"could not fetch the Bot Framework signing keys ({type(error).__name__}); retrying with backoff"


def teams_member_lookup_failed(activity_id: str | None, error: BaseException) -> str:
    return f"teams member lookup failed for activity {_id(activity_id)}: {type(error).__name__}"


def teams_installation(action: str | None, activity_id: str | None) -> str:
    return f"teams installation update {_id(action)} (activity {_id(activity_id)}): nothing stored"


def teams_reply_failed(activity_id: str | None, delivery: object) -> str:
    status, error = getattr(delivery, "status", "?"), getattr(delivery, "error", None)
    return f"teams reply to activity {_id(activity_id)} not delivered: {status} ({error})"


def teams_send_failed(error: BaseException) -> str:
    return f"teams proactive send failed with {type(error).__name__} at {where_it_failed(error)}"


# --- the inbox of acknowledged work -----------------------------------------------------------------


def inbox_slow(source: str, key: str, budget: float) -> str:
    return f"{source} work {key} not stored within {budget:.1f}s; acknowledged anyway, stored late"


def inbox_duplicate(source: str, key: str) -> str:
    return f"{source} work {key} is already waiting (a retried delivery); not run twice"


def inbox_unavailable(source: str, key: str, error: BaseException) -> str:
    return f"{source} inbox unavailable for {key}: {type(error).__name__} at {where_it_failed(error)}"


def work_failed(source: str, key: str, attempt: int, error: BaseException) -> str:
    return (
        f"{source} work {key} failed (attempt {attempt}) with {type(error).__name__} "
        f"at {where_it_failed(error)}; it stays in the inbox"
    )


def work_given_up(source: str, key: str, attempts: int) -> str:
    return (
        f"{source} work {key} given up after {attempts} attempts; kept as dead in the inbox for an operator"
    )


def work_recovered(source: str, count: int) -> str:
    return f"{source}: {count} unfinished work item(s) taken up again from the inbox"


def background_failed(source: str, error: BaseException) -> str:
    return f"{source} background task failed with {type(error).__name__} at {where_it_failed(error)}"


# --- Slack --------------------------------------------------------------------------------------------


def slack_rejected(reason: str) -> str:
    return f"slack request rejected: {reason}"


def slack_not_stored(key: str, error: BaseException) -> str:
    return (
        f"slack work {key} could not be stored ({type(error).__name__} at {where_it_failed(error)}); "
        "answered 503 so that Slack delivers it again"
    )


def slack_retry(number: str, reason: str | None) -> str:
    return f"slack redelivery {number[:2]} ({(reason or 'no reason')[:40]})"


def slack_refused(surface: str, user: str, team: str | None, reason: str) -> str:
    return f"slack {surface} from user {user} (team {team or 'ours'}) refused: {reason}"


def slack_delivery_failed(work: str, user: str, status: str, error: str | None) -> str:
    return f"slack reply to {work} for user {user} not delivered: {status} ({error})"


def slack_api_failed(method: str, work: str, status: str, error: str | None) -> str:
    return f"slack {method} for {work} failed: {status} ({error})"


# --- the plan's sweep and delivery -------------------------------------------------------------------


def sweep_nobody(kind: str, point_id: int, case_id: int) -> str:
    return f"no one to send {kind} for point {point_id} of case {case_id} to"


def _by_area(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{area} {count}" for area, count in sorted(counts.items()))


def sweep_not_reminded(by_area: Mapping[str, int]) -> str:
    return (
        f"{sum(by_area.values())} due plan point(s) reminded to nobody ({_by_area(by_area)}): their "
        "owner is a role nobody holds yet (no investigating officer, or no senior leadership team "
        "for the area: hampshire people add EMAIL --role slt --area AREA)"
    )


def sweep_not_escalated(by_area: Mapping[str, int]) -> str:
    [area, *more] = sorted(by_area)
    where = "AREA" if more else area
    return (
        f"{sum(by_area.values())} overdue plan point(s) NOT escalated ({_by_area(by_area)}): no "
        "senior leadership team for the area and no Op Hampshire SPOC, other than the points' own "
        f"owners; add one with: hampshire people add EMAIL --role slt --area {where} (or --role spoc)"
    )


def send_retrying(attempt: int, outcome: object, delay: float) -> str:
    return f"send attempt {attempt} got {outcome}; retrying in {delay:.1f}s"


def send_gave_up(attempts: int, error: str, status: str) -> str:
    return f"send gave up after {attempts} attempt(s): {error} ({status})"


def delivery_lost_claim(nudge_id: int) -> str:
    return f"nudge {nudge_id} was taken from this worker before its result was recorded"


def delivery_failed(nudge_id: int, attempts: int, error: str | None) -> str:
    return f"nudge {nudge_id} failed after {attempts} attempts: {error}"


def delivery_withdrawn(nudge_id: int) -> str:
    return f"nudge {nudge_id} withdrawn: none of its points is still its recipient's to do"


def delivery_unconfirmed(nudge_id: int) -> str:
    return f"nudge {nudge_id}: cannot tell whether it arrived; not resending"


def evidence_failed(nudge_id: int, error: BaseException) -> str:
    return f"nudge {nudge_id} delivered, but completing its points failed: {where_it_failed(error)}"


def reply_not_sent(reply_id: int, status: str, error: str | None) -> str:
    return f"reply {reply_id} not sent yet ({status}: {error}); it stays in the outbox"


def reply_failed(reply_id: int, attempts: int, error: str | None) -> str:
    return f"reply {reply_id} failed after {attempts} attempts: {error}"


def reply_unconfirmed(reply_id: int) -> str:
    return f"reply {reply_id}: cannot tell whether it arrived; not resending"


def reply_raised(reply_id: int, error: BaseException) -> str:
    return f"sending reply {reply_id} raised {type(error).__name__} at {where_it_failed(error)}"


def reply_recovery_failed(error: BaseException) -> str:
    return (
        f"replies left unsent not taken up ({type(error).__name__} at {where_it_failed(error)}); "
        "retried later"
    )


def after_turn_failed(channel: str, error: BaseException) -> str:
    return (
        f"{channel}: after a committed turn, {type(error).__name__} at {where_it_failed(error)}; "
        "its replies wait in the outbox"
    )


def reply_lease_renewal_failed(error: BaseException) -> str:
    return f"reply leases not renewed ({type(error).__name__}); retried shortly"


def delivery_raised(nudge_id: int, error: BaseException) -> str:
    return f"sending nudge {nudge_id} raised {type(error).__name__} at {where_it_failed(error)}"


def lease_renewal_failed(error: BaseException) -> str:
    return f"renewing delivery leases raised {type(error).__name__} at {where_it_failed(error)}; tried again"


def tick_done(sweep: Any, delivery: Any) -> str:
    return (
        f"tick: {sweep.points} points, {sweep.queued} queued, {sweep.escalated} escalated, "
        f"{sweep.digests} digests; {delivery.sent} sent, {delivery.retrying} retrying, "
        f"{delivery.failed} failed, {delivery.held} held"
    )


def pruned(counts: Any) -> str:
    return (
        f"retention: {counts.conversations} conversations, {counts.processed_events} event ids, "
        f"{counts.replies} sent replies, {counts.reminders} finished reminders and "
        f"{counts.closed_cases} closed cases deleted"
    )


def prune_failed(error: BaseException) -> str:
    where = where_it_failed(error)
    return f"retention run failed with {type(error).__name__} at {where}; it runs again tomorrow"


def tick_failed(error: BaseException) -> str:
    return f"plan tick failed with {type(error).__name__} at {where_it_failed(error)}; the next tick retries"


def email_not_sent(key: str | None, error: str) -> str:
    return f"email {_id(key)} not accepted by the SMTP server ({_id(error)}); it will be tried again"


def email_no_starttls(key: str | None) -> str:
    return (
        f"email {_id(key)} not sent: the SMTP server does not offer STARTTLS and email is sent encrypted "
        "or not at all (smtps:// or a server that offers it); it will be tried again"
    )


def email_uncertain(key: str | None, error: str) -> str:
    return f"email {_id(key)}: the SMTP conversation broke off ({_id(error)}); it may have been delivered"
