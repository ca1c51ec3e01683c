"""The string ids the code itself uses (every other string is referenced from the pack's YAML).

The pack checker requires each of these in `strings.yaml`; a test keeps this list in step with
the `"strings.…"` literals in the code.
"""

from __future__ import annotations

__all__ = ["REQUIRED_STRINGS"]

REQUIRED_STRINGS: frozenset[str] = frozenset(
    {
        "strings.anything_else",
        "strings.bad_crime_reference",
        "strings.bad_date",
        "strings.bad_email",
        "strings.bad_email_list",
        "strings.bad_yes_no",
        "strings.cancelled",
        "strings.contact_email",
        "strings.contact_for_whom",
        "strings.contact_hours",
        "strings.contact_phone",
        "strings.contact_unverified",
        "strings.contact_web",
        "strings.continuing",
        "strings.date_in_future",
        "strings.empty_input",
        "strings.error",
        "strings.flow_changed",
        "strings.greeting",
        "strings.help_general",
        "strings.io_not_assigned",
        "strings.label_io",
        "strings.label_kind",
        "strings.label_occurred_at",
        "strings.label_reference",
        "strings.label_victim",
        "strings.menu",
        "strings.menu_after_cancel",
        "strings.menu_continue",
        "strings.my_cases_line",
        "strings.no",
        "strings.none_given",
        "strings.not_given",
        "strings.not_understood",
        "strings.not_work_email",
        "strings.nothing_to_cancel",
        "strings.owner_you",
        "strings.pick_one",
        "strings.point_done_line",
        "strings.point_due_line",
        "strings.point_follow_up",
        "strings.point_na_line",
        "strings.point_overdue_line",
        "strings.point_urgent",
        "strings.progress_done",
        "strings.progress_done_item",
        "strings.progress_io",
        "strings.progress_io_pending",
        "strings.progress_next_update",
        "strings.progress_review_until",
        "strings.stale_choice",
        "strings.starting_over",
        "strings.state_reset",
        "strings.teams_choose",
        "strings.teams_one_to_one_only",
        "strings.teams_work_account_needed",
        "strings.too_long",
        "strings.welcome_back",
        "strings.yes",
    }
)
