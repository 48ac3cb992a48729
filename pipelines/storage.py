"""StoragePipeline: batched writes to the SQLite archive and the run's `crawls` row.

Rows are written in transactions of ARSHIF_BATCH_SIZE; a crash loses at most the
open batch, and the next run fetches those pages again because they are not in
the archive.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy import signals

from pipelines.archive.database import OUTCOMES, RUN_COUNTS, finish_crawl, insert_rows, open_archive, start_crawl, take_place, utc_now
from pipelines.archive.lock import ArchiveLock
from pipelines.archive.request_meta import ROLE, WARC_REF
from pipelines.outcomes.counters import STATS_PREFIX, count, drop
from pipelines.outcomes.faults import FAULT_PREFIX

logger = logging.getLogger(__name__)

_STATUS_BY_REASON = {"finished": "finished", "shutdown": "killed", "cancelled": "killed"}


class StoragePipeline:
    def __init__(self, crawler, db_path: str, batch_size: int):
        self.crawler = crawler
        self.db_path = db_path
        self.batch_size = max(1, batch_size)
        self.db = None
        self.crawl_id: int | None = None
        self.articles: list[dict] = []
        self.duplicates: list[dict] = []
        self.replacements: list[dict] = []
        self.edits: list[dict] = []  # new texts of archived articles (--refresh)
        self.pages: dict[str, dict] = {}
        self.lock = ArchiveLock(db_path)

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler, crawler.settings.get("ARSHIF_DB"), crawler.settings.getint("ARSHIF_BATCH_SIZE", 50))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self, spider=None):
        self.lock.acquire()
        self.db = open_archive(self.db_path)
        source = getattr(self.crawler.spider, "source_name", None) or self.crawler.spider.name
        self.crawl_id = start_crawl(self.db, source)
        self.crawler.stats.set_value(f"{STATS_PREFIX}crawl_id", self.crawl_id)

    def response_received(self, response, request, spider=None):
        """Log every fetched URL (`pages`): conditional requests need its ETag next time."""
        if response.status == 304:
            return
        self.pages[response.url] = {
            "url": response.url,
            "source": getattr(self.crawler.spider, "source_name", None),
            "role": request.meta.get(ROLE),
            "status": response.status,
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
            "fetched_at": utc_now(),
            "crawl_id": self.crawl_id,
            "warc": request.meta.get(WARC_REF),  # resolved at flush: the WARC thread may still be writing it
        }

    def item_dropped(self, item, response, exception, spider=None):
        url = ItemAdapter(item).get("url")
        outcome = str(exception).split(":", 1)[0]
        if url and outcome in OUTCOMES and outcome != "duplicate":
            self._page_outcome(url, outcome)

    def _page_outcome(self, url: str, outcome: str) -> None:
        self.pages.setdefault(url, {"url": url})["outcome"] = outcome

    def process_item(self, item):
        page = ItemAdapter(item)
        record = page["record"]
        duplicate = page["duplicate"]
        warc = {key: (page["warc"] or {}).get(key) for key in ("warc_file", "warc_offset", "warc_length")}
        if page["edit"]:
            self._page_outcome(record["url"], "stored")
            self.edits.append({**record, **warc, "crawl_id": self.crawl_id})
            count(self.crawler, "edited")
            if len(self.edits) >= self.batch_size:
                self.flush()
            return item
        if duplicate:
            self.duplicates.append(
                {
                    **warc,
                    "url": record["url"],
                    "canonical_url": record["canonical_url"],
                    "source": record["source"],
                    "title": record["title"],
                    "fetched_at": record["fetched_at"],
                    "duplicate_of": duplicate["of"],
                    "similarity": duplicate["similarity"],
                    "kind": duplicate["kind"],
                    "crawl_id": self.crawl_id,
                }
            )
        else:
            self._add_article({**record, **warc, "crawl_id": self.crawl_id}, page["replaces"])
        # after take_place, whose flush must not commit this page's outcome without its row
        self._page_outcome(record["url"], "duplicate" if duplicate or page["replaces"] else "stored")
        if len(self.articles) + len(self.duplicates) >= self.batch_size:
            self.flush()
        if duplicate:
            raise drop(self.crawler, "duplicate", f"{record['url']} duplicates article {duplicate['of']} ({duplicate['kind']})")
        count(self.crawler, "duplicate" if page["replaces"] else "stored")
        return item

    def _add_article(self, row: dict, replaces: dict | None):
        if not replaces:
            self.articles.append(row)
            return
        take_place(self, row, replaces, self.crawl_id)  # an earlier-published copy displaces the kept one

    def flush(self, final: bool = False):
        """Write the open batch. A page whose WARC records an extraction worker is still building
        waits for the next batch (its request is still in Scrapy's hands); any other page's
        record is written first if it is still held (a PendingWarc extraction never took)."""
        pages, waiting = {}, {}
        for url, page in self.pages.items():
            warc = page.get("warc")
            if warc is not None and warc.in_extraction():
                if not final:
                    waiting[url] = page
                    continue
                # cannot happen: Scrapy closes pipelines when every item is through them
                logger.warning("The WARC record of %s was never completed; its pages row has no WARC reference", url)
                page = {**page, "warc": None}
            elif warc is not None:
                warc.settle()
            pages[url] = page
        if self.articles or self.duplicates or self.replacements or self.edits or pages:
            insert_rows(self.db, self.articles, self.duplicates, self.replacements, [_page_row(p) for p in pages.values()],
                        self.edits)
            self.articles, self.duplicates, self.replacements, self.edits = [], [], [], []
        self.pages = waiting

    def close_spider(self, spider=None):
        self.flush(final=True)

    def spider_closed(self, spider, reason):
        """Close the run's `crawls` row, also when the run failed or was stopped."""
        if self.db is None or self.crawl_id is None:
            return
        self.flush(final=True)
        stats = self.crawler.stats.get_stats()
        counts = {outcome: stats.get(f"{STATS_PREFIX}{outcome}", 0) for outcome in (*OUTCOMES, *RUN_COUNTS)}
        counts["pages_fetched"] = stats.get("downloader/response_count", 0)
        status = _STATUS_BY_REASON.get(reason, "failed")
        faults = {key[len(FAULT_PREFIX):]: value for key, value in stats.items() if key.startswith(FAULT_PREFIX)}
        warning = layout_warning(self.crawler.spider, counts)
        if warning:
            logger.warning(warning)
        finish_crawl(self.db, self.crawl_id, status, counts, {**stats, "finish_reason": reason}, faults, warning)
        self.db.close()
        self.db = None
        self.lock.release()


def _page_row(page: dict) -> dict:
    """A `pages` row: the page's fields and where its response was archived."""
    row = {key: value for key, value in page.items() if key != "warc"}
    row.update(page.get("warc") or {})
    return row


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


LAYOUT_FAILURE_SHARE = 0.5  # this share of article candidates failing extraction: warn
LAYOUT_MIN_CANDIDATES = 5


def layout_warning(spider, counts: dict) -> str | None:
    """Name the source when most of its article pages suddenly yield no article."""
    failed = counts.get("not_article", 0) + counts.get("extraction_failed", 0)
    candidates = failed + sum(counts.get(k, 0) for k in ("stored", "duplicate", "already_archived", "not_arabic", "too_old"))
    if candidates < LAYOUT_MIN_CANDIDATES or failed / candidates < LAYOUT_FAILURE_SHARE:
        return None
    source = getattr(spider, "source_name", None) or spider.name
    return (
        f"source {source}: {failed} of {candidates} article pages ({failed / candidates:.0%}) yielded no article; "
        "has the site's layout changed? Check with `arshif extract` on a saved page"
    )
