"""Building blocks of the card.coop protocol v1; import the public API from `cardcoop.crypto`."""
