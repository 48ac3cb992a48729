"""Arshif spiders: `news` crawls any source from `seeds/`."""
