"""Demo data: a living project for a new user to explore right after `make run`."""
