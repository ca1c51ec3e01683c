"""Slack: slack-bolt over HTTP or Socket Mode (`adapter`), payloads in (`inbound`), Block Kit out
(`render`), the app's declared scopes (`manifest`)."""
