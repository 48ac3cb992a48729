"""StoragePipeline: batched writes to the SQLite archive and the run's `crawls` row.

Rows are written in transactions of ARSHIF_BATCH_SIZE; a crash loses at most the
open batch, and the next run fetches those pages again because they are not in
the archive.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from pipelines.archive.database import (
    OUTCOMES,
    RUN_COUNTS,
    committed_counts,
    finish_crawl,
    insert_rows,
    open_archive,
    start_crawl,
    take_place,
    utc_now,
)
from pipelines.archive.kill_points import KillPoint
from pipelines.archive.lock import ArchiveLock
from pipelines.archive.request_meta import ROLE, WARC_REF
from pipelines.archive.shared import SharedArchive, SharedField, shared_archive
from pipelines.extraction.version import EXTRACTION_VERSION
from pipelines.outcomes.commit_units import UNIT_END, commits_in_units
from pipelines.outcomes.counters import STATS_PREFIX, count, drop
from pipelines.outcomes.faults import FAULT_PREFIX
from pipelines.outcomes.write_failure import WRITE_ERROR, WRITE_ERRORS, describe, failed
from pipelines.outcomes.write_failure import report as report_write_failure

logger = logging.getLogger(__name__)
_BATCH_COMMITTED = KillPoint("ARSHIF_TEST_EXIT_AFTER_BATCHES")  # tests only: kill -9 after the Nth committed batch

_STATUS_BY_REASON = {"finished": "finished", "shutdown": "killed", "cancelled": "killed"}


class StoragePipeline:
    # one connection and one open batch per archive: shared by every source of `arshif crawl --all`
    db = SharedField()
    articles = SharedField()
    duplicates = SharedField()
    replacements = SharedField()
    edits = SharedField()
    pages = SharedField()

    def __init__(self, crawler, db_path: str, batch_size: int, warc_dir: str | None = None,
                 shared: SharedArchive | None = None):
        self.crawler = crawler
        self.shared = shared  # the process's writer of this archive (pipelines/archive/shared.py), or None
        self.state = SimpleNamespace(users=0)
        self.warc_dir = Path(warc_dir) if warc_dir else None  # rows are committed only while their WARC file is there
        self.db_path = db_path
        self.batch_size = max(1, batch_size)
        self.db = None
        self.crawl_id: int | None = None
        self.closed = False
        self.in_units = False
        self.articles: list[dict] = []
        self.duplicates: list[dict] = []
        self.replacements: list[dict] = []
        self.edits: list[dict] = []  # new texts of archived articles (--refresh)
        self.pages: dict[str, dict] = {}
        self.lock = shared.lock if shared else ArchiveLock(db_path)  # a shared lock is held by the runner

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        warc_dir = settings.get("ARSHIF_WARC_DIR")
        if warc_dir is None:
            warc_dir = Path(settings.get("ARSHIF_DB")).resolve().parent / "warc"
        pipeline = cls(crawler, settings.get("ARSHIF_DB"), settings.getint("ARSHIF_BATCH_SIZE", 50), warc_dir or None,
                       shared_archive(settings.get("ARSHIF_DB")))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.unit_end, signal=UNIT_END)
        return pipeline

    def open_spider(self, spider=None):
        if self.shared is None:
            self.lock.acquire()
            self.db = open_archive(self.db_path)
            self.lock.hold_file()  # a new archive: its file exists only now
        else:
            self.state, made = self.shared.part("storage")
            if made:
                self.db = open_archive(self.db_path)
                self.lock.hold_file()  # the runner's lock; a new archive's file exists only now
                self.articles, self.duplicates, self.replacements, self.edits, self.pages = [], [], [], [], {}
        self.state.users += 1
        self.in_units = commits_in_units(self.crawler)  # the spider's units are the transactions, not batch_size
        spider = self.crawler.spider
        source = getattr(spider, "source_name", None) or spider.name
        # what this run's outcomes are decided under (IncrementalMiddleware retries on a change)
        self.crawl_id = start_crawl(self.db, source, source_digest=getattr(getattr(spider, "source", None), "digest", None),
                                    extraction_version=EXTRACTION_VERSION)
        self.crawler.stats.set_value(f"{STATS_PREFIX}crawl_id", self.crawl_id)
        if self.shared is not None:
            self.shared.crawlers[self.crawl_id] = self.crawler

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
        """Store the item; when the archive cannot be written, stop the crawl (pipelines/outcomes/write_failure.py)."""
        if failed(self.crawler):
            raise DropItem("write_failed: the archive cannot be written", log_level="DEBUG")
        try:
            return self._store(item)
        except WRITE_ERRORS as exc:
            self._write_failed(exc)
            raise DropItem(f"write_failed: {describe(exc)}", log_level="DEBUG") from None

    def _write_failed(self, exc: BaseException) -> None:
        """Nothing of the open batch was committed (one transaction): forget it; the next run fetches it.
        The archive's failure is every source's: all the runs sharing this writer stop."""
        crawlers = dict(self.shared.crawlers) if self.shared is not None else {self.crawl_id: self.crawler}
        crawlers.setdefault(self.crawl_id, self.crawler)
        for crawl_id, crawler in crawlers.items():
            report_write_failure(crawler, exc, "WARC" if isinstance(exc, OSError) else "archive database")
            for key, rows in (("stored", self.articles), ("duplicate", self.duplicates)):  # counted, never committed
                crawler.stats.inc_value(f"{STATS_PREFIX}{key}", -sum(row.get("crawl_id") == crawl_id for row in rows))
        self.articles, self.duplicates, self.replacements, self.pages = [], [], [], {}

    def _store(self, item):
        page = ItemAdapter(item)
        record = page["record"]
        duplicate = page["duplicate"]
        warc = {key: (page["warc"] or {}).get(key) for key in ("warc_file", "warc_offset", "warc_length")}
        if page["edit"]:
            self._page_outcome(record["url"], "stored")
            self.edits.append({**record, **warc, "crawl_id": self.crawl_id})
            count(self.crawler, "edited")
            if len(self.edits) >= self.batch_size and not self.in_units:
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
        # counted before the flush: a flush that fails uncounts the whole open batch, this page included
        dropped = drop(self.crawler, "duplicate", f"{record['url']} duplicates article {duplicate['of']} ({duplicate['kind']})") \
            if duplicate else count(self.crawler, "duplicate" if page["replaces"] else "stored")
        if len(self.articles) + len(self.duplicates) >= self.batch_size and not self.in_units:
            self.flush()
        if dropped is not None:
            raise dropped
        return item

    def _add_article(self, row: dict, replaces: dict | None):
        if not replaces:
            self.articles.append(row)
            return
        # an earlier-published copy displaces the kept one; that one keeps its crawl_id (with `--all`, maybe
        # another source's run: the run that fetched it)
        take_place(self, row, replaces)

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
            self._check_warc_files(pages.values())
            insert_rows(self.db, self.articles, self.duplicates, self.replacements, [_page_row(p) for p in pages.values()],
                        self.edits)
            self.articles, self.duplicates, self.replacements, self.edits = [], [], [], []
            _BATCH_COMMITTED.reached()  # tests: no close, no index batch, no crawls row update
        self.pages = waiting

    def _check_warc_files(self, pages) -> None:
        """Raise WarcGone rather than commit rows that point at a WARC file no longer there (folder deleted)."""
        if self.warc_dir is None:
            return
        from pipelines.archive.warc import WarcGone

        rows = (*self.articles, *self.duplicates, *self.replacements, *(page.get("warc") or {} for page in pages))
        for name in {row.get("warc_file") for row in rows} - {None}:
            if not (self.warc_dir / name).is_file():
                raise WarcGone(2, "the WARC file of this batch is gone", str(self.warc_dir / name))

    def _final_flush(self, unit_end: bool = False) -> None:
        if self.in_units and not unit_end:
            # a run closing inside a unit (Ctrl-C, a failure) keeps none of it, as a kill would not: the
            # next run decides the unit whole (pipelines/outcomes/commit_units.py); its counts go too
            for key, rows in (("stored", self.articles), ("duplicate", self.duplicates)):
                self.crawler.stats.inc_value(f"{STATS_PREFIX}{key}", -len(rows))
            self.articles, self.duplicates, self.replacements, self.edits, self.pages = [], [], [], [], {}
            return
        if failed(self.crawler):
            return
        try:
            # the shared batch may hold pages of sources still running: only the last one's flush is final
            self.flush(final=self.state.users <= 1)
        except WRITE_ERRORS as exc:
            self._write_failed(exc)

    def close_spider(self, spider=None):
        self._final_flush()

    def unit_end(self, spider=None):
        """The spider's unit is through the pipelines (pipelines/outcomes/commit_units.py): write it whole."""
        self._final_flush(unit_end=True)

    def _decide_stories(self) -> None:
        """The run's last rows are written: its verified pairs become stories (pipelines/similarity/stories.py).
        Not after a failed write (the next run's open decides them, for the articles that were written)."""
        if failed(self.crawler) or self.state.users > 1:
            return
        from pipelines.similarity.stories import resolve_stories

        try:
            done = resolve_stories(self.db)
        except WRITE_ERRORS as exc:
            logger.warning("Stories not decided (%s): the next run decides them", exc)
            return
        stats = self.crawler.stats
        stats.set_value("arshif/story_joined", done.joined)
        stats.set_value("arshif/near_template_refused", done.template_refused)
        stats.set_value("arshif/near_bucket_refused", done.bucket_refused)
        stats.set_value("arshif/stories_merged", done.stories_merged)

    def _finish(self, row: tuple, error: str | None) -> None:
        if error:
            _drop_orphan_index_rows(self.db)
        finish_crawl(*row)

    def spider_closed(self, spider, reason):
        """Close the run's `crawls` row, also when the run failed or was stopped."""
        if self.db is None or self.crawl_id is None or self.closed:
            return
        self._final_flush()
        self._decide_stories()
        stats = self.crawler.stats.get_stats()
        counts = {outcome: stats.get(f"{STATS_PREFIX}{outcome}", 0) for outcome in (*OUTCOMES, *RUN_COUNTS)}
        counts["pages_fetched"] = stats.get("downloader/response_count", 0)
        error = stats.get(WRITE_ERROR)
        if error:  # a write failed (disk full, WARC folder gone): count what was committed, not what was batched
            try:
                counts["stored"], counts["duplicate"] = committed_counts(self.db, self.crawl_id)
            except WRITE_ERRORS:
                pass
        status = "failed" if error else _STATUS_BY_REASON.get(reason, "failed")
        faults = {key[len(FAULT_PREFIX):]: value for key, value in stats.items() if key.startswith(FAULT_PREFIX)}
        warning = layout_warning(self.crawler.spider, counts)
        if warning:
            logger.warning(warning)
        row = (self.db, self.crawl_id, status, counts, {**stats, "finish_reason": reason}, faults, warning, error)
        try:
            try:
                self._finish(row, error)
            except WRITE_ERRORS:  # the disk is full: the lock file's reserve makes room for this one row
                self.lock.free_reserve()
                self._finish(row, error)
        except WRITE_ERRORS as exc:
            report_write_failure(self.crawler, exc, "crawls row")
        finally:
            self.state.users -= 1
            if self.shared is not None:
                self.shared.crawlers.pop(self.crawl_id, None)
            if self.state.users <= 0:
                try:
                    self.db.close()
                except WRITE_ERRORS:
                    pass
                self.db = None
            if self.shared is None:
                self.lock.release()
            self.closed = True


def _drop_orphan_index_rows(db) -> None:
    """The dedup pipeline writes the near-duplicate index on its own, and closes before this pipeline's last
    batch: when that batch (or any) could not be written, the index names articles that were never committed."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'near_duplicate_signatures'").fetchone():
        with db.atomic():
            for table in ("near_duplicate_bands", "near_duplicate_signatures"):
                db.execute(f"DELETE FROM {table} WHERE article_id NOT IN (SELECT id FROM articles)")


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
