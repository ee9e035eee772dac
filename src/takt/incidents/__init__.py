"""Incidents: what broke in an environment, how badly, which deployment caused it and which
fixed it."""
