"""Sharing with cooperatives: consent, tickets, the cooperative-side data API."""
