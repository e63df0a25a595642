"""Example integrations of card.coop (not part of the deployed apps)."""
