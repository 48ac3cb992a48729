"""Throughput benchmark: fetch only vs the naive pipeline vs Arshif (see README.md)."""
