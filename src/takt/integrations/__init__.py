"""Inbound GitHub and GitLab webhooks: signature checks, the inbox, and payload parsers."""
