"""Deployments: a project's environments (the promotion path), the deployments to them and what
each shipped (commits, pull requests, items), and the promotion timeline of a change."""
