"""Reports: patterns and compliance over the stored cases, one case's timeline, and their outputs.

Aggregation runs in the database (`sql`, `patterns`, `compliance`); `tables` holds the neutral
result and the small-number rule for audiences beyond the senior leadership team; `charts`,
`output` and `headline` turn results into PNG, HTML, CSV, JSON and chat messages; `demo` writes an
invented history to try them on.
"""
