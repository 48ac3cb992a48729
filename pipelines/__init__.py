"""Arshif's Scrapy item pipelines, one per file in the order ITEM_PIPELINES runs them: extract, language_filter, dedup, storage.

Below them, plain-Python packages that know nothing of the crawl: `text` (Arabic
text and HTML page logic), `extraction` (a page's bytes to an article record, in
worker processes), `similarity` (URL identity, exact and near-copy fingerprints),
`archive` (the SQLite schema, WARC files, the writer's lock) and `outcomes` (the
names of what happened to a page). Nothing under `pipelines/` imports `crawler`.
"""
