"""The member's cooperatives, as the ВОСХОД registry confirms them (issue #4)."""
