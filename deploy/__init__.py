"""How card.coop is served in production (issue #10): nginx in front of granian."""
