"""Channels: one package per platform (Slack, Teams, console) that translates and renders only.

Adapters hand the router neutral `Inbound` turns (`bot.channels.inbound`) and send later through the
outbound `Channel` seam (`bot.channels.outbound`); each platform SDK is imported only in its package."""
