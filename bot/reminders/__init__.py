"""Reminders: the sweep that finds what is due, the outbox queue, delivery, rate limits and the schedule."""
