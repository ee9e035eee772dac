"""Read-only metrics over the event log and delivery data: code review (and later DORA and flow)."""
