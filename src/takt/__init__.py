"""Takt: a self-hostable, API-first backend for how software teams deliver."""

__version__ = "0.1.0"
