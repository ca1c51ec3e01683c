"""Who is reminded of a point follows the pack's owner roles."""

from __future__ import annotations

from bot.reminders.recipients import reminded
from dialogs.schema import OwnerSpec, Pack


def test_who_is_reminded_follows_the_packs_owner_roles(pack: Pack) -> None:
    assert reminded(pack, owner_role="supervisor", owner_id=3) == ("nudge", "owner")
    assert reminded(pack, owner_role="io", owner_id=None) == ("unassigned", "reporter")
    assert reminded(pack, owner_role="io", owner_id=4) == ("nudge", "owner")
    assert reminded(pack, owner_role="slt", owner_id=None) == ("nudge", "area_leaders")


def test_a_role_the_pack_adds_is_reminded_by_its_holder(pack: Pack) -> None:
    owners = {**pack.plan.owners, "fed_rep": OwnerSpec(held_by="area_leaders")}
    added = pack.model_copy(update={"plan": pack.plan.model_copy(update={"owners": owners})})
    assert reminded(added, owner_role="fed_rep", owner_id=None) == ("nudge", "area_leaders")
