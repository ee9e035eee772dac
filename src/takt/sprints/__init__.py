"""Sprints and planning: scope, capacity, commitment, burndown, velocity and forecasts."""
