"""Retention: the pack's periods (`retention:` in pack.yaml) applied to the store.

Run daily by the scheduler under `serve` and `slack-socket`, and on demand by `hampshire db prune`
(`--dry-run` only counts). Each run is one transaction: it deletes all it counted, or nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.runtime import Runtime
from dialogs.schema import Pack
from store.retention import Pruned, prune

__all__ = ["prune_expired", "scheduled_prune"]

log = logging.getLogger(__name__)


def prune_expired(
    pack: Pack, *, sessions: sessionmaker[Session], now: datetime, dry_run: bool = False
) -> Pruned:
    """Forget what the pack's retention periods say has expired at `now` (count only with `dry_run`)."""
    periods = pack.meta.retention
    with sessions.begin() as session:
        return prune(
            session=session,
            now=now,
            conversations_before=now - timedelta(days=periods.conversation_days),
            events_before=now - timedelta(days=periods.processed_event_days),
            cases_closed_before=now - timedelta(days=periods.closed_case_days),
            replies_before=now - timedelta(days=periods.sent_reply_days),
            reminders_before=now - timedelta(days=periods.sent_reminder_days),
            dry_run=dry_run,
        )


async def scheduled_prune(runtime: Runtime) -> None:
    """The daily run as the scheduler calls it: counts logged; a failure logged by where, not what."""
    try:
        pruned = await asyncio.to_thread(
            prune_expired, runtime.pack, sessions=runtime.sessions, now=runtime.clock()
        )
    except Exception as error:
        log.error(messages.prune_failed(error))
        return
    log.info(messages.pruned(pruned))
