"""The console channel: the bot in a terminal, for trying it and reviewing a pack's content."""
