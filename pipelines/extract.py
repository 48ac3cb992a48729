"""ExtractionPipeline: raw page → article record (title, body, author, date, language).

The CPU work (parsing, extraction, language) runs in a process pool (one worker
per core but the reactor's), so the reactor thread only downloads and schedules. At most
ARSHIF_EXTRACT_IN_FLIGHT pages are in the pool at once; further items wait,
which holds Scrapy's scraper back and keeps memory flat.
"""

from __future__ import annotations

import asyncio
import logging
import os
from types import SimpleNamespace

from itemadapter import ItemAdapter

from pipelines.archive.shared import SharedArchive, SharedField, shared_archive
from pipelines.outcomes.counters import drop
from pipelines.extraction.pool import WorkerDied, WorkerPool
from pipelines.extraction.worker import extract_page

logger = logging.getLogger(__name__)


# Pages handed to the pool per worker. A worker must always have the next page
# queued when it finishes one, even while the reactor is busy with a burst of
# responses: with 2 the pool idled and the crawl ran at 78 pages/s, with 16 at 95
# (bench/throughput). Pages waiting here are in memory either way.
IN_FLIGHT_PER_WORKER = 16


class ExtractionPipeline:
    # one pool for every source of `arshif crawl --all` (pipelines/archive/shared.py), not one per source
    pool = SharedField()
    _slots = SharedField()

    def __init__(self, crawler, min_words: int, workers: int, in_flight: int, shared: SharedArchive | None = None):
        self.crawler = crawler
        self.shared = shared
        self.state = SimpleNamespace(users=0)
        self.min_words = min_words
        self.workers = workers
        self.in_flight = max(1, in_flight)
        self.pool: WorkerPool | None = None
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        workers = settings.getint("ARSHIF_EXTRACT_WORKERS", -1)
        if workers < 0:  # the reactor needs a core of its own; more workers only compete with it
            workers = max(1, (os.cpu_count() or 1) - 1)
        return cls(
            crawler,
            settings.getint("ARSHIF_MIN_WORDS", 40),
            workers,
            settings.getint("ARSHIF_EXTRACT_IN_FLIGHT", 0) or IN_FLIGHT_PER_WORKER * max(1, workers),
            shared_archive(settings.get("ARSHIF_DB")),
        )

    def open_spider(self, spider=None):
        made = True
        if self.shared is not None:
            self.state, made = self.shared.part("extract")
        if made:
            self.pool = WorkerPool(self.workers) if self.workers else None
            self._slots = None
        self.state.users += 1

    def close_spider(self, spider=None):
        self.state.users -= 1
        if self.pool is not None and self.state.users <= 0:
            self.pool.close()
            self.pool = None

    async def process_item(self, item):
        page = ItemAdapter(item)
        # WarcMiddleware left the page's WARC records to extraction (crawler.middlewares.PendingWarc)
        warc = page.get("warc")
        pending = warc if hasattr(warc, "claim") else None
        warc_exchange = None
        if pending is not None:
            if self.pool is not None and not (self._slots is not None and self._slots.locked()):
                warc_exchange = pending.claim(page["body"])  # the worker builds them, mostly from the body it gets anyway
            else:
                pending.write_now()  # the workers are the bottleneck: the WARC thread builds them
        args = (
            page["body"], page["url"], page["content_type"], page["source"], page["fetched_at"],
            tuple(page["prune_selectors"]), dict(page["hints"]), self.min_words, warc_exchange,
        )
        built = None
        try:
            record, error, built = await self._run(args)
        except Exception as exc:  # a bug in a parser must not stop the crawl
            logger.exception("Extraction crashed on %s", page["url"])
            raise drop(self.crawler, "extraction_failed", f"{page['url']}: {exc!r}") from None
        finally:
            if pending is not None:
                pending.complete(built)  # appended here; None: the WARC thread writes the page
                if built is not None:
                    self.crawler.stats.inc_value("arshif/warc_built_in_workers")
        if error is not None:
            logger.warning("Extraction failed for %s: %s", page["url"], error)
            raise drop(self.crawler, "extraction_failed", f"{page['url']}: {error}")
        if record.get("fallback"):
            # Arshif's pruned body was lost; trafilatura's on the unpruned page was kept (logged in the worker)
            self.crawler.stats.inc_value("arshif/extraction/fallback")
            logger.info("Extraction fell back to trafilatura's body for %s: %s", page["url"], record["fallback"])
        if not record["is_article"]:
            raise drop(self.crawler, "not_article", f"{page['url']}: {record['verdict']}")
        page["record"] = record
        return item

    async def _run(self, args):
        if self.pool is None:
            return extract_page(*args)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.in_flight)
        async with self._slots:
            try:
                return await self.pool.run(extract_page, *args)
            except WorkerDied:
                # out of memory, a crash in C code: this page or another one the worker had. A new
                # worker tries once more; never the crawl process, which the same page could kill.
                logger.error("Extraction worker died with %s queued; trying it once more", args[1])
                return await self.pool.run(extract_page, *args)
