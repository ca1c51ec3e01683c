"""Channels: one package per platform (Slack, Teams, console) that translates and renders only.

Adapters hand neutral `Inbound` turns (`bot.channels.inbound`) to the narrow `Port`
(`bot.channels.port`), the only way they reach the bot: none opens a database session. They send
later through the outbound `Channel` seam (`bot.channels.outbound`); each platform SDK is imported
only in its package."""
