"""The audit log: security-relevant actions, who did them, when and from where."""
