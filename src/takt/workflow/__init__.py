"""A project's workflow (ordered statuses in fixed categories) and its labels."""
