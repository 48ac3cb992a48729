"""DedupPipeline: the one place that decides whether a page is a copy.

Order of checks: the canonical URL, then the hash of the normalized body. The
first copy seen is kept and later copies go to `duplicates` with what they copy,
with one exception that makes a crawl's result independent of download order:
within one run, a copy published earlier than the kept one (the wire original
before its republications) takes its place. Articles from earlier runs never
change.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

from pipelines.archive import known_keys, next_article_id, open_archive
from pipelines.outcomes import drop


class DedupPipeline:
    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.urls: dict[str, int] = {}
        self.hashes: dict[str, int] = {}
        self.next_id = 1
        self.kept_this_run: dict[int, dict] = {}  # article id → what a duplicate row needs

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.get("ARSHIF_DB"))

    def open_spider(self, spider=None):
        db = open_archive(self.db_path)
        self.urls, self.hashes = known_keys(db)
        self.next_id = next_article_id(db)
        db.close()

    def process_item(self, item):
        page = ItemAdapter(item)
        record = page["record"]
        url, canonical = record["url"], record["canonical_url"]
        known = self.urls.get(url)
        if known is not None:
            raise drop(self.crawler, "already_archived", f"{url} is archived (article {known})")
        same_url = self.urls.get(canonical)
        if same_url is not None:
            return self._duplicate(page, same_url, "url", 1.0)
        original = self.hashes.get(record["content_hash"])
        if original is not None:
            return self._duplicate(page, original, "exact", 1.0)
        record["id"] = self.next_id
        self.next_id += 1
        self.urls[url] = self.urls[canonical] = record["id"]
        self.hashes[record["content_hash"]] = record["id"]
        self.kept_this_run[record["id"]] = _summary(record)
        return item

    def _duplicate(self, page, original: int, kind: str, similarity: float):
        record = page["record"]
        kept = self.kept_this_run.get(original)
        if kept and _earlier(record.get("published"), kept["published"]):
            record["id"] = original
            page["replaces"] = {**kept, "kind": kind, "similarity": similarity}
            self.kept_this_run[original] = _summary(record)
            self.urls[record["url"]] = self.urls[record["canonical_url"]] = original
            return page.item
        page["duplicate"] = {"of": original, "kind": kind, "similarity": similarity}
        self.urls[page["record"]["url"]] = original
        self.urls.setdefault(page["record"]["canonical_url"], original)
        return page.item


def _summary(record: dict) -> dict:
    keys = ("url", "canonical_url", "source", "title", "fetched_at", "published")
    return {key: record.get(key) for key in keys}


def _earlier(candidate: str | None, kept: str | None) -> bool:
    """Strictly earlier publication day; unknown dates never displace."""
    return bool(candidate and kept) and candidate[:10] < kept[:10]
