"""Bench: many polite sources one after another vs `arshif crawl --all`, against slow local sites."""
