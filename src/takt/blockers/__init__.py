"""Blockers: what blocks a work item, on whom or what it waits, its age, escalation."""
