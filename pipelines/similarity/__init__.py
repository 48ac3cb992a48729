"""When two pages are the same article: canonical URLs, exact-text fingerprints and MinHash near-copy signatures; imports `pipelines.text` only."""
