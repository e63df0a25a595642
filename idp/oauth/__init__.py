"""Cooperatives as OAuth 2.0 clients (issue #4): the client registry, for now managed by a CLI."""
