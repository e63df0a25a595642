"""id.card.coop as the ВОСХОД network's card service (issue #11): the signed documents MONO's
cardcoop extension sends, and what card.coop signs back."""
