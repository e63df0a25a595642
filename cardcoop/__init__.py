"""card.coop Python SDK.

`cardcoop.crypto` implements the zero-knowledge protocol v1 (see shared/protocol/PROTOCOL.md);
the API client lives beside it.
"""
