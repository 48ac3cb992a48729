"""Extraction-quality corpus and bench: the shared real pages and the seed pages, scored."""
