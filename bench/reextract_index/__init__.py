"""Bench: what recounting the near-duplicate index's template guards adds to a reextract's swap."""
