"""The `import` spider: pages from web archives Arshif did not write, through the crawl's own pipelines.

No network: `arshif import` hands it local WARC/ARC files (downloads done before).
pipelines/archive/warc_import.py reads them; each HTML 200 page that passes the
cheap script pre-check is copied into the archive's own WARC folder (role
`article`, so `arshif reextract` replays it) and becomes a PageItem for extraction,
language, dedup and storage, exactly as a crawled page. A URL already in the
archive (an article, a duplicate, or a page with an outcome) is skipped before
anything is written: that makes a rerun after a kill, or a second import of the
same file, add nothing twice.

The file is committed in units of ARSHIF_IMPORT_UNIT_RECORDS records counted from
its start (pipelines/outcomes/commit_units.py): a unit's pages all go through the
pipelines, then are written in one transaction, then the next unit starts. A kill
loses the open unit whole; the same command again reads the file from its start
(the revisit index needs the records before), skips the committed units' URLs and
meets the same units with the same archive before each: it decides as a clean
import does.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Request, Response

from crawler.items import PageItem
from crawler.middlewares import WarcLocation
from crawler.sources import SourceError, all_sources, load_source
from crawler.spiders.closing import close_when_idle
from pipelines.archive.request_meta import ROLE, WARC_REF
from pipelines.archive.warc import (
    ROLE_HEADER,
    SOURCE_HEADER,
    WarcWriter,
    index_unindexed,
)
from pipelines.archive.warc_import import (
    ARABIC_SCRIPT_LANGUAGES,
    ImportCounts,
    may_be_arabic_script,
    read_pages,
)
from pipelines.outcomes.commit_units import UNIT_COMMITTED, UNIT_END
from pipelines.outcomes.write_failure import WRITE_ERRORS, failed
from pipelines.outcomes.write_failure import report as report_write_failure
from pipelines.similarity.urls import fetch_url

IMPORTED_FROM_HEADER = "WARC-Arshif-Imported-From"  # "<file name>#<offset>" of the record copied
PROGRESS_EVERY = 0.5  # seconds between progress lines on a terminal
# Pages yielded and not yet through the pipelines. Scrapy sends items from start() to the pipelines
# without waiting for them, so without this a file of Arabic pages would sit in memory whole.
MAX_PAGES_IN_PIPELINES = 64


class SourcesByHost:
    """The source a page's host belongs to: the seed whose `allowed_domains` (or site) covers it, else the host."""

    def __init__(self, sources):
        self.domains: list[tuple[str, object]] = []
        for source in sources:
            hosts = {*source.allowed_domains, urlsplit(source.site_url).hostname or ""} - {""}
            self.domains += [(host.lower(), source) for host in hosts]
        self.domains.sort(key=lambda pair: -len(pair[0]))  # the most specific domain first

    def seed(self, host: str):
        host = host.lower().rstrip(".")
        return next((source for domain, source in self.domains if host == domain or host.endswith("." + domain)), None)


def host_source_name(host: str) -> str:
    """A host no seed covers is a source of its own: the host, lower case, without a leading `www.`."""
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")


class ImportSpider(scrapy.Spider):
    name = "import"
    source_name = "import"  # the `crawls` row's source; its `kind` is 'import'
    commits_in_units = True  # StoragePipeline and DedupPipeline wait for UNIT_END / UNIT_COMMITTED

    def __init__(self, files: str = "[]", source: str | None = None, since: str | None = None, copy: str = "1",
                 pre_check: str = "1", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.files = json.loads(files)  # [{"path", "name", "sha256", "size"}]
        self.fixed_source = source
        self.since = since or None
        self.copy = copy not in ("0", "", "false")
        self.use_pre_check = pre_check not in ("0", "", "false")
        self.counts: dict[str, ImportCounts] = {}
        self._seen: set[int] = set()  # hashes of the URLs this run took
        self._progress_at = 0.0
        self._in_pipelines = 0
        self._room: asyncio.Event | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        spider.unit_records = max(1, settings.getint("ARSHIF_IMPORT_UNIT_RECORDS", 1000))
        languages = set(settings.getlist("ARSHIF_KEEP_LANGUAGES", ["ar"]))
        arabic_script = languages <= ARABIC_SCRIPT_LANGUAGES  # the pre-check knows Arabic script only
        spider.pre_check = may_be_arabic_script if arabic_script and spider.use_pre_check else None
        spider.db_path = settings.get("ARSHIF_DB")
        warc_dir = settings.get("ARSHIF_WARC_DIR") or str(Path(spider.db_path).resolve().parent / "warc")
        spider.warc = {"folder": warc_dir, "prefix": "import", "max_size": settings.getint("ARSHIF_WARC_MAX_SIZE", 100 << 20),
                       "gzip_level": settings.getint("ARSHIF_WARC_GZIP_LEVEL", 6)}
        spider.writer = None  # made in start(), where a folder that cannot be made fails the run
        spider.hosts = SourcesByHost(all_sources())
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        close_when_idle(crawler)
        for done in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._through, signal=done)
        return spider

    # -- what is already there ------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.db_path, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    def _archived(self, url: str) -> bool:
        """The URL has a row already: an article, a duplicate, or a page whose outcome was decided."""
        return self._db.execute(
            "SELECT EXISTS(SELECT 1 FROM pages WHERE url = ?1 AND outcome IS NOT NULL)"
            " OR EXISTS(SELECT 1 FROM articles WHERE url = ?1) OR EXISTS(SELECT 1 FROM duplicates WHERE url = ?1)",
            [url],
        ).fetchone()[0]

    def _skip(self, raw_url: str) -> bool:
        url = fetch_url(raw_url)
        return hash(url) in self._seen or self._archived(url)

    # -- reading --------------------------------------------------------------------------

    async def start(self):
        """Every file in turn. A failure that is not the input's (disk full, archive read-only, a bug) stops
        the import with the run `failed`: Scrapy would otherwise end a broken start() as `finished`."""
        self._db = self._connect()
        self._record_run()
        try:
            if Path(self.warc["folder"]).is_dir():  # earlier copies whose index a failure or a kill left unwritten
                try:
                    index_unindexed(self.warc["folder"])
                except WRITE_ERRORS as exc:
                    report_write_failure(self.crawler, exc, "WARC index")
                    return
            if self.copy:
                self.writer = WarcWriter(**self.warc)
            for entry in self.files:
                counts = self.counts.setdefault(entry["name"], ImportCounts())
                self._file, self._started = entry, time.monotonic()
                unit = 0
                for page in read_pages(entry["path"], counts, self.max_size, self.since, self.pre_check, self._skip,
                                       self._progress):
                    if failed(self.crawler):
                        return
                    if (counts["records"] - 1) // self.unit_records != unit:  # the page opens a later unit
                        if not await self._commit_unit():
                            return
                        unit = (counts["records"] - 1) // self.unit_records
                    item = self._item(page, entry, counts)
                    if item is not None:
                        await self._wait_for_room()
                        self._in_pipelines += 1
                        yield item
                if not await self._commit_unit():
                    return
                self._progress(entry["size"], final=True)
        except Exception as exc:  # noqa: BLE001  (reported and recorded: the CLI exits 1)
            report_write_failure(self.crawler, exc, "import" if not isinstance(exc, WRITE_ERRORS) else "WARC copy")
            return
        self._record_run()

    def _item(self, page, entry: dict, counts: ImportCounts) -> PageItem | None:
        url = fetch_url(page.url)
        self._seen.add(hash(url))
        host = urlsplit(url).hostname or ""
        seed = None if self.fixed_source else self.hosts.seed(host)
        if seed is not None and not seed.is_article_url(url):
            counts["not_article_url"] += 1  # the crawl of that seed would not extract it either
            return None
        source_name = self.fixed_source or (seed.name if seed is not None else host_source_name(host))
        if self.writer is not None:
            ref = self.writer.write_exchange(
                url, page.status_line, page.headers, page.body, date=page.date,
                extra={ROLE_HEADER: "article", SOURCE_HEADER: source_name,
                       IMPORTED_FROM_HEADER: f"{entry['name']}#{page.offset}"},
            )
            location = {"warc_file": ref.file, "warc_offset": ref.offset, "warc_length": ref.length,
                        "warc_date": ref.date, "digest": ref.digest}
        else:  # --no-copy: the original file and the record's place in it
            location = {"warc_file": entry["path"], "warc_offset": page.offset, "warc_length": page.length,
                        "warc_date": page.date, "digest": None}
        self._page_row(url, source_name, page, location)
        counts["kept"] += 1
        return PageItem(
            url=url,
            source=source_name,
            body=page.body,
            content_type=page.content_type,
            status=200,
            fetched_at=_iso(page.date),
            discovered_via="import",
            prune_selectors=self._prune_selectors(seed, source_name),
            warc={key: location[key] for key in ("warc_file", "warc_offset", "warc_length")},
        )

    async def _commit_unit(self) -> bool:
        """Wait for every page of the unit to be through the pipelines, then have them written in one
        transaction (pipelines/outcomes/commit_units.py). False: the archive could not be written."""
        await self._wait_for_room(0)
        if failed(self.crawler):
            return False
        self.crawler.signals.send_catch_log(UNIT_END, spider=self)
        if failed(self.crawler):
            return False
        self.crawler.signals.send_catch_log(UNIT_COMMITTED, spider=self)
        self._record_run()  # the counts so far: progress an operator (or a test) can read
        return not failed(self.crawler)

    async def _wait_for_room(self, most: int = MAX_PAGES_IN_PIPELINES - 1) -> None:
        if self._room is None:
            self._room = asyncio.Event()
        while self._in_pipelines > most:
            if failed(self.crawler):
                return  # the run is closing: items still queued are dropped, not waited for
            self._room.clear()
            await self._room.wait()

    def _through(self, *args, **kwargs) -> None:
        """An item left the pipelines (stored, dropped or failed): room for the next page."""
        self._in_pipelines = max(0, self._in_pipelines - 1)
        if self._room is not None:
            self._room.set()

    def _prune_selectors(self, seed, source_name: str) -> tuple[str, ...]:
        if seed is not None:
            return seed.prune_selectors
        if self.fixed_source:
            try:
                return load_source(self.fixed_source).prune_selectors
            except SourceError:
                return ()
        return ()

    def _page_row(self, url: str, source_name: str, page, location: dict) -> None:
        """The page's `pages` row, as a crawl's fetch makes it (StoragePipeline listens to response_received
        and takes the row's source from the spider's `source_name`: the page's own, while the signal runs)."""
        future: Future = Future()
        future.set_result(location)
        headers = {k: v for k, v in page.headers if k.lower() in ("etag", "last-modified")}
        response = Response(url, status=200, headers=headers)
        request = Request(url, meta={ROLE: "article", WARC_REF: WarcLocation(future)})
        self.source_name = source_name
        try:
            self.crawler.signals.send_catch_log(signals.response_received, response=response, request=request, spider=self)
        finally:
            self.source_name = ImportSpider.source_name

    # -- the run's row and progress -----------------------------------------------------------

    def _record_run(self) -> None:
        crawl_id = self.crawler.stats.get_value("arshif/crawl_id")
        if crawl_id is None:
            return
        files = [{**{k: entry[k] for k in ("name", "sha256", "size")}, "path": entry.get("origin") or entry["path"],
                  "copied": self.copy,
                  "counts": dict(self.counts.get(entry["name"], {}))} for entry in self.files]
        with self._db:
            self._db.execute("UPDATE crawls SET kind = 'import', import_files = ? WHERE id = ?",
                             [json.dumps(files, ensure_ascii=False, sort_keys=True), crawl_id])
        for key, value in sum(self.counts.values(), ImportCounts()).items():
            self.crawler.stats.set_value(f"arshif/import/{key}", value)

    def _progress(self, position: int, final: bool = False) -> None:
        if not sys.stderr.isatty():
            return
        now = time.monotonic()
        if not final and now - self._progress_at < PROGRESS_EVERY:
            return
        self._progress_at = now
        counts = self.counts[self._file["name"]]
        seconds = max(now - self._started, 1e-6)
        size = self._file["size"] or 1
        eta = seconds * (size - position) / position if position else 0
        sys.stderr.write(f"\r{self._file['name']}: {counts['records']} records read, {counts['kept']} kept, "
                         f"{counts['records'] / seconds:.0f} records/s, {position / size:.0%}, ETA {eta:.0f} s   "
                         + ("\n" if final else ""))
        sys.stderr.flush()

    def _closed(self, spider, reason):
        if self.writer is not None:
            try:
                self.writer.close()  # the CDXJ index of the copies
            except WRITE_ERRORS as exc:  # the run fails (a failed copy before it stays the cause); the next run writes it
                report_write_failure(self.crawler, exc, "WARC index")
        db = getattr(self, "_db", None)
        if db is not None:
            try:
                self._record_run()
            finally:
                db.close()


def _iso(warc_date: str) -> str:
    return warc_date.replace("Z", "+00:00") if warc_date else ""
