"""People: who a person is on every channel, by one work-email policy."""
