"""Async daily stand-ups: the config, members' entries, drafts from the event log, the summary."""
