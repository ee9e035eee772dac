"""Delivery: linked repositories, pull requests, reviews, commits and their links to items."""
