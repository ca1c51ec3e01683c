"""Every Teams test that reaches an SDK runs once per SDK (the `sdk` fixture)."""

from tests.fake_teams import sdk

__all__ = ["sdk"]
