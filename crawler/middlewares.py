"""Downloader middlewares: raw responses to WARC, and incremental crawling.

Order matters: both sit close to the downloader (high numbers), so they see
responses as received, before decompression and redirects.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.resolver import Allowances, CheckedResolver, address_problem

from pipelines.archive.database import open_archive
from pipelines.archive.warc import (
    DEFAULT_GZIP_LEVEL,
    DEFAULT_MAX_SIZE,
    ROLE_HEADER,
    SOURCE_HEADER,
    WarcWriter,
    index_unindexed,
    warc_date,
)
from pipelines.archive.request_meta import PREVIOUS, ROLE, WARC_REF  # noqa: F401 (re-exported for old imports)
from pipelines.extraction.version import EXTRACTION_VERSION
from pipelines.outcomes.write_failure import WRITE_ERRORS
from pipelines.outcomes.write_failure import report as report_write_failure

RETRYABLE_OUTCOMES = ("extraction_failed", "not_article", "too_old")  # a fix in the source file or the code may change them

logger = logging.getLogger(__name__)

_SAFE_SCHEMES = {"http", "https"}



def _headers(scrapy_headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in scrapy_headers.items()
        for value in values
    ]


class WarcLocation(Mapping):
    """Where a response was archived (warc_file, warc_offset, warc_length, warc_date, digest).

    The WARC writer thread fills it in; reading it waits for that write, which
    is long done by the time the storage pipeline needs it.
    """

    def __init__(self, future: Future):
        self._future = future

    def ready(self) -> bool:
        return self._future.done()

    def in_extraction(self) -> bool:
        """An extraction worker is building the records (a claimed PendingWarc)."""
        return False

    def settle(self) -> None:
        """Make sure it will resolve (a PendingWarc not taken by extraction is written now)."""

    def _values(self) -> dict:
        return self._future.result()

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


class PendingWarc(WarcLocation):
    """An article page's WARC records, not written yet.

    The extraction pipeline `claim`s it and sends its fields to the extraction
    worker with the body it sends anyway; the worker builds the gzipped records
    (pipelines.archive.warc.build_exchange) and the pipeline `complete`s it by appending
    them. Compressing and digesting a page then costs the crawl process nothing:
    it was 1 ms of its ~5.6 ms per page, and its threads share one GIL. When the
    workers fall behind (no free pool slot), the pipeline leaves the page to the
    WARC thread instead, so the load balances itself between the two processes.
    A page that extraction never takes is written by the WARC thread too
    (`write_now`): when a meta refresh made a new request of it, as that request's
    response arrives; when its callback failed, with the storage pipeline's next
    batch; in any case once more than MAX_UNCLAIMED_BYTES of pages are held, or at
    close.
    """

    def __init__(self, middleware: WarcMiddleware, exchange: dict, body: bytes):
        super().__init__(Future())
        self._middleware = middleware
        self._exchange = exchange
        self._body: bytes | None = body
        self.size = len(body)
        self._claimed = False

    def claim(self, extraction_body: bytes) -> dict | None:
        """build_exchange's arguments, or None if it is written or claimed already. The body is
        left out when it is the one extraction gets anyway: where Scrapy decompressed the page
        (Content-Encoding), the record needs the bytes as they came over the wire."""
        if self._body is None or self._claimed:
            return None
        self._claimed = True
        self._middleware.release(self)
        exchange = {**self._exchange, "gzip_level": self._middleware.writer.gzip_level}
        if self._body is not extraction_body:
            exchange["body"] = self._body
        return exchange

    def complete(self, built) -> None:
        """Append records built from the claim; None (the worker failed): the WARC thread writes them."""
        if self._body is None:
            return
        if built is None:
            self._claimed = False
            self.write_now()
            return
        self._body = None
        try:
            ref = self._middleware.writer.append(built)
        except WRITE_ERRORS as exc:  # disk full, folder gone: the crawl stops; the page's row is not written
            self._future.set_exception(exc)
            report_write_failure(self._middleware.crawler, exc, "WARC")
            return
        except BaseException as exc:
            self._future.set_exception(exc)
            raise
        self._future.set_result(_ref_fields(ref, with_digest=True))

    def write_now(self) -> None:
        """Hand the page to the WARC thread, unless extraction has claimed it."""
        if self._body is None or self._claimed:
            return
        body, self._body = self._body, None
        self._middleware.release(self)
        self._middleware.submit(self._exchange, body, True, self._future)

    def in_extraction(self) -> bool:
        return self._claimed and self._body is not None

    def settle(self) -> None:
        self.write_now()


def _warc_prefix(spider) -> str:
    """WARC files are named after the source: the crawlers of `arshif crawl --all` share one process
    (and pid), and two writers must never append to one file."""
    return getattr(spider, "source_name", None) or getattr(spider, "name", "crawl")


class WarcMiddleware:
    """Write every response the crawl receives to gzipped WARC files (warcio).

    Writing runs in one thread of its own, in arrival order: compressing a page
    (zlib releases the GIL) costs the reactor thread little, so it keeps
    downloading. Article pages (200) are offered to the extraction pool first (see
    PendingWarc). `request.meta[WARC_REF]` is a WarcLocation that resolves when read.
    """

    # Unclaimed article pages held for extraction, in bytes of body; past this the oldest is
    # written by the WARC thread. Scrapy holds up to SCRAPER_SLOT_MAX_ACTIVE_SIZE (20 MB) of
    # responses waiting for the spider and the pipelines, so only pages nothing will claim reach it.
    MAX_UNCLAIMED_BYTES = 32 * 1024 * 1024

    def __init__(self, crawler, folder: str, max_size: int, gzip_level: int = DEFAULT_GZIP_LEVEL, defer_articles: bool = True):
        self.crawler = crawler
        index_unindexed(folder)  # files an earlier crawl or import left without their index
        self.writer = WarcWriter(
            folder, prefix=f"arshif-{_warc_prefix(crawler.spider)}", max_size=max_size, gzip_level=gzip_level
        )
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arshif-warc")
        self.defer_articles = defer_articles
        self._unclaimed: dict[int, PendingWarc] = {}  # oldest first
        self._unclaimed_bytes = 0

    @classmethod
    def from_crawler(cls, crawler):
        folder = crawler.settings.get("ARSHIF_WARC_DIR")
        if folder is None:
            folder = str(Path(crawler.settings.get("ARSHIF_DB")).resolve().parent / "warc")  # beside the real file, not a symlink to it
        if not folder:
            raise NotConfigured("ARSHIF_WARC_DIR is empty: WARC archiving is off")
        middleware = cls(
            crawler,
            folder,
            crawler.settings.getint("ARSHIF_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
            crawler.settings.getint("ARSHIF_WARC_GZIP_LEVEL", DEFAULT_GZIP_LEVEL),
            # extraction on the reactor thread (0 workers): the WARC thread is cheaper than building there
            defer_articles=crawler.settings.getint("ARSHIF_EXTRACT_WORKERS", -1) != 0,
        )
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request, response, spider=None):
        carried = request.meta.get(WARC_REF)
        if isinstance(carried, PendingWarc):  # a meta refresh made this request of an unclaimed page
            carried.write_now()
        source = getattr(self.crawler.spider, "source_name", "")
        extra = {ROLE_HEADER: request.meta.get(ROLE, "other"), SOURCE_HEADER: source}
        revisit = request.meta.get(PREVIOUS) if response.status == 304 else None
        status_line = f"{response.status} {_reason(response.status)}"
        exchange = dict(  # build_exchange's arguments but the body
            url=response.url,
            status_line=status_line,
            headers=_headers(response.headers),
            request_method=request.method,
            request_headers=_headers(request.headers),
            protocol=response.protocol or "HTTP/1.1",
            extra=extra,
            revisit_of=revisit if revisit and revisit[2] else None,
            date=warc_date(),  # when it was received, wherever it is written
        )
        if self.defer_articles and response.status == 200 and request.meta.get(ROLE) == "article":
            pending = PendingWarc(self, exchange, response.body)
            self._hold(pending)
            request.meta[WARC_REF] = pending
        else:
            future: Future = Future()
            self.submit(exchange, response.body, response.status != 304, future)
            request.meta[WARC_REF] = WarcLocation(future)
        self.crawler.stats.inc_value("arshif/warc_records")
        return response

    def submit(self, exchange: dict, body: bytes, with_digest: bool, future: Future) -> None:
        self.thread.submit(self._write, exchange, body, with_digest, future)

    def _write(self, exchange: dict, body: bytes, with_digest: bool, future: Future) -> None:
        """In the writer thread: one exchange to the current WARC file."""
        try:
            ref = self.writer.write_exchange(body=body, **exchange)
        except BaseException as exc:
            future.set_exception(exc)
            if isinstance(exc, WRITE_ERRORS):
                report_write_failure(self.crawler, exc, "WARC")
                return
            raise
        future.set_result(_ref_fields(ref, with_digest))

    def _hold(self, pending: PendingWarc) -> None:
        self._unclaimed[id(pending)] = pending
        self._unclaimed_bytes += pending.size
        while self._unclaimed_bytes > self.MAX_UNCLAIMED_BYTES:
            next(iter(self._unclaimed.values())).write_now()

    def release(self, pending: PendingWarc) -> None:
        if self._unclaimed.pop(id(pending), None) is not None:
            self._unclaimed_bytes -= pending.size

    def spider_closed(self, spider):
        for pending in list(self._unclaimed.values()):
            pending.write_now()
        self.thread.shutdown(wait=True)
        try:
            self.writer.close()  # writes the CDXJ index
        except WRITE_ERRORS as exc:
            report_write_failure(self.crawler, exc, "WARC index")


def _ref_fields(ref, with_digest: bool) -> dict:
    return {
        "warc_file": ref.file,
        "warc_offset": ref.offset,
        "warc_length": ref.length,
        "warc_date": ref.date,
        "digest": ref.digest if with_digest else None,
    }


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class BoundedCache(OrderedDict):
    """The last `size` answers, least recently used out first: a crawl's look-ups, not the archive's rows."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def __getitem__(self, key):
        self.move_to_end(key)
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if len(self) > self.size:
            self.popitem(last=False)


class IncrementalMiddleware:
    """Do not download again what the archive already holds.

    Article pages with a recorded outcome are skipped (ARSHIF_REFRESH forces
    them); start pages, sitemaps and feeds are re-read with If-None-Match /
    If-Modified-Since, and a 304 ends there.
    """

    def __init__(self, crawler, db_path: str, refresh: bool, retry_failed: bool = False, cache_size: int = 20_000):
        self.crawler = crawler
        self.db_path = db_path
        self.refresh = refresh
        self.retry_failed = retry_failed
        self.db = None
        # URL → what the archive said the first time this run asked (a page row is rewritten once it is fetched,
        # and a listing linked again in the run must still get its earlier validators): bounded, least recent out
        self.pages = BoundedCache(cache_size)  # URL → its pages row (or None)
        self.archived = BoundedCache(cache_size)  # article URL → skip it
        self.digest: str | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        middleware = cls(crawler, settings.get("ARSHIF_DB"), settings.getbool("ARSHIF_REFRESH"),
                         settings.getbool("ARSHIF_RETRY_FAILED"), settings.getint("ARSHIF_LOOKUP_CACHE", 20_000))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider):
        """Open the archive for look-ups: nothing is loaded, each URL is asked for on an index when requested.
        Every URL is fetched at most once: an alias of an archived story (tracking parameters, an AMP page) is
        fetched the first time it is met and recorded as a `url` duplicate."""
        self.db = open_archive(self.db_path)
        self.digest = getattr(getattr(spider, "source", None), "digest", None)
        self.crawler.stats.set_value("arshif/retry_candidates", self._retry_candidates())

    def spider_closed(self, spider, reason=None):
        if self.db is not None:
            self.db.close()
            self.db = None

    def _retry_candidates(self) -> int:
        """Pages whose outcome will be fetched again this run (idx_pages_retryable: only those pages are read)."""
        outcomes = ", ".join(f"'{outcome}'" for outcome in RETRYABLE_OUTCOMES)  # literal: the partial index's WHERE
        changed = "1" if self.retry_failed else "(c.source_digest IS NOT ? OR c.extraction_version IS NOT ?)"
        params = [] if self.retry_failed else [self.digest, EXTRACTION_VERSION]
        return self.db.execute(
            f"SELECT COUNT(*) FROM pages p LEFT JOIN crawls c ON c.id = p.crawl_id WHERE p.outcome IN ({outcomes}) AND {changed}",
            params,
        ).fetchone()[0]

    def _retry(self, page: dict, digest: str | None) -> bool:
        """A page whose outcome came from a configuration or extraction problem is fetched again when the
        source file or the extraction version changed since, or with --retry-failed; stored, duplicate,
        already_archived (and not_arabic) never."""
        return page["outcome"] in RETRYABLE_OUTCOMES and self._changed(page, digest)

    def _changed(self, page: dict, digest: str | None) -> bool:
        return self.retry_failed or page["source_digest"] != digest or page["extraction_version"] != EXTRACTION_VERSION

    def _page(self, url: str) -> dict | None:
        """The URL's `pages` row with its crawl's keys, as it was when this run first asked (primary key look-up)."""
        if url in self.pages:
            return self.pages[url]
        cursor = self.db.execute(
            "SELECT p.status, p.etag, p.last_modified, p.digest, p.warc_date, p.outcome, c.source_digest,"
            " c.extraction_version, c.status = 'finished' AND NOT COALESCE(c.limit_reached, 0) AS complete"
            " FROM pages p LEFT JOIN crawls c ON c.id = p.crawl_id WHERE p.url = ?",
            [url],
        )
        row = cursor.fetchone()
        page = self.pages[url] = dict(zip((d[0] for d in cursor.description), row)) if row else None
        return page

    def _archived(self, url: str) -> bool:
        """An article page not to download: an article or duplicates row has this URL, or its page has an outcome
        that stands (pages, articles.url and duplicates.url are each a unique-index look-up)."""
        if url in self.archived:
            return self.archived[url]
        page = self._page(url)
        if page and page["outcome"] and not self._retry(page, self.digest):
            archived = True
        else:
            archived = self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM articles WHERE url = ?) OR EXISTS (SELECT 1 FROM duplicates WHERE url = ?)",
                [url, url],
            ).fetchone()[0] == 1
        self.archived[url] = archived
        return archived

    def process_request(self, request, spider=None):
        if self.refresh:
            return None
        url = request.url
        if request.meta.get(ROLE) == "article":
            if self._archived(url):
                self.crawler.stats.inc_value("arshif/skipped_archived")
                raise IgnoreRequest(f"already archived: {url}")
            return None
        page = self._page(url)
        # a listing read under another source file or extraction version is read in full: pages to retry,
        # or new article patterns, are found through it
        if page and page["status"] == 200 and page["complete"] and not self._changed(page, self.digest):
            if page["etag"]:
                request.headers.setdefault("If-None-Match", page["etag"])
            if page["last_modified"]:
                request.headers.setdefault("If-Modified-Since", page["last_modified"])
            request.meta[PREVIOUS] = (url, page["warc_date"], page["digest"])
        return None

    def process_response(self, request, response, spider=None):
        if response.status == 304:
            self.crawler.stats.inc_value("arshif/not_modified")
            raise IgnoreRequest(f"not modified: {request.url}")
        return response


class SafeAddressMiddleware:
    """Refuse non-HTTP schemes and non-public addresses before any connection.

    Loopback (127.0.0.0/8, ::1, 0.0.0.0 and their IPv6 forms) is allowed only when
    the source says `allow_loopback = true` (the demo and the tests); private,
    carrier-grade NAT, link-local (169.254.169.254, the cloud metadata address) and
    every other special-purpose range only with `allow_private_addresses`. The
    host is looked up by the crawl's one resolver (crawler/resolver.py), which
    then connects only to the addresses it checked: see CheckedResolver. A
    request may go through a proxy only when Arshif's settings configure it
    (ARSHIF_PROXY); its target host is still checked here, and refused when it
    does not resolve.
    """

    def __init__(self, crawler, proxies: dict[str, str]):
        self.crawler = crawler
        self.proxies = proxies
        self._resolver: CheckedResolver | None = None
        self._allowances: Allowances | None = None

    @classmethod
    def from_crawler(cls, crawler):
        _refuse_unchecked_handlers(crawler.settings)
        return cls(crawler, configured_proxies(crawler.settings))

    def resolver(self) -> CheckedResolver:
        """The reactor's resolver, looked up at the first request: CrawlerProcess installs
        TWISTED_DNS_RESOLVER when it starts, after the middlewares are built."""
        if self._resolver is None:
            from twisted.internet import reactor

            self._resolver = CheckedResolver.installed(reactor)
            for url in self.proxies.values():
                self._resolver.trust(urlsplit(url).hostname or "")
            source = getattr(self.crawler.spider, "source", None)
            self._allowances = Allowances(
                loopback=bool(getattr(source, "allow_loopback", False)),
                private=bool(getattr(source, "allow_private_addresses", False)),
            )
            self._resolver.allow(self.crawler, self._allowances)
        return self._resolver

    async def process_request(self, request, spider=None):
        from scrapy.utils.defer import maybe_deferred_to_future

        parts = urlsplit(request.url)
        if parts.scheme not in _SAFE_SCHEMES:
            raise IgnoreRequest(f"unsafe address: scheme {parts.scheme!r} in {request.url}")
        proxy = request.meta.get("proxy")
        if proxy is not None and proxy not in self.proxies.values():
            raise IgnoreRequest(f"unsafe address: proxy {proxy!r} is not configured in ARSHIF_PROXY ({request.url})")
        host = (parts.hostname or "").lower()
        resolver = self.resolver()
        addresses = resolver.cached(host)  # most requests: a host already looked up, no wait
        if addresses is None:
            addresses = await maybe_deferred_to_future(resolver.lookup(host))
        if not addresses:
            if self.proxies:
                raise IgnoreRequest(f"unsafe address: {host} does not resolve here, so it cannot be checked "
                                    f"before the proxy fetches it ({request.url})")
            return None  # unresolvable: the download fails with dns_error
        problem = resolver.problem(addresses, self._allowances)
        if problem is None:
            resolver.passed(host, self._allowances)
            return None
        raise IgnoreRequest(f"unsafe address: {host} is {problem} ({request.url})")


def _refuse_unchecked_handlers(settings) -> None:
    """Only Twisted's HTTP handlers connect through the reactor's resolver; others would bypass the check."""
    from scrapy.utils.misc import load_object

    handlers = {**settings.getdict("DOWNLOAD_HANDLERS_BASE"), **settings.getdict("DOWNLOAD_HANDLERS")}
    for scheme in _SAFE_SCHEMES:
        path = handlers.get(scheme)
        if path is None:
            continue
        handler = load_object(path) if isinstance(path, str) else path
        module = getattr(handler, "__module__", "")
        if module not in _CHECKED_HANDLER_MODULES:
            raise ValueError(f"DOWNLOAD_HANDLERS[{scheme!r}] = {path!r} does not connect through Arshif's checked "
                             f"resolver (crawler/resolver.py); use Scrapy's HTTP/1.1 or HTTP/2 handler")


_CHECKED_HANDLER_MODULES = {
    "scrapy.core.downloader.handlers.http11",
    "scrapy.core.downloader.handlers.http2",
    "scrapy.core.downloader.handlers.http",
}


def configured_proxies(settings) -> dict[str, str]:
    """scheme -> proxy URL (without credentials), from ARSHIF_PROXY only.

    None or "": no proxy (the environment's http_proxy/https_proxy are ignored);
    a URL: that proxy for http and https; "env": the environment's, as Scrapy reads them.
    """
    from urllib.request import getproxies

    value = settings.get("ARSHIF_PROXY") or ""
    if not value:
        return {}
    found = getproxies() if value == "env" else {"http": value, "https": value}
    proxies = {}
    for scheme in _SAFE_SCHEMES:
        if scheme in found:
            proxies[scheme] = _proxy_url(found[scheme], scheme)
    return proxies


def _proxy_url(url: str, scheme: str) -> str:
    """The proxy URL as HttpProxyMiddleware puts it in request.meta["proxy"] (credentials left out)."""
    from urllib.parse import urlunparse
    from urllib.request import _parse_proxy  # type: ignore[attr-defined]

    proxy_type, _user, _password, hostport = _parse_proxy(url)
    return urlunparse((proxy_type or scheme, hostport, "", "", "", ""))


class ConfiguredProxyMiddleware(HttpProxyMiddleware):
    """Scrapy's HttpProxyMiddleware, with proxies from ARSHIF_PROXY instead of the environment.

    Scrapy's own reads http_proxy/https_proxy from the environment: a crawl started
    where they are set would send every request to that proxy, which resolves names
    the local check cannot (metadata.google.internal). Here the environment counts
    only with ARSHIF_PROXY = "env".
    """

    def __init__(self, auth_encoding: str | None, setting: str | None):
        super().__init__(auth_encoding)
        if setting != "env":
            self.proxies = {}
            if setting:
                for scheme in _SAFE_SCHEMES:
                    self.proxies[scheme] = self._get_proxy(setting, scheme)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("HTTPPROXY_AUTH_ENCODING"), crawler.settings.get("ARSHIF_PROXY"))


def _address_problem(host: str) -> str | None:
    """None for a public address; else what kind of address the host is (resolved here, for tests and tools)."""
    from crawler.resolver import _getaddrinfo, parse_address

    literal = parse_address(host)
    if literal is not None:
        addresses: tuple = (literal,)
    else:
        try:
            addresses = _getaddrinfo(host.strip("[]"))
        except OSError:
            return None
    for address in addresses:
        problem = address_problem(address)
        if problem:
            return problem
    return None


class RetryAfterMiddleware:
    """Honour `Retry-After` on 429 and 503 before Scrapy's RetryMiddleware retries.

    The wait is capped at ARSHIF_MAX_RETRY_AFTER seconds; it holds only that
    download slot (the same site), not the crawl.
    """

    def __init__(self, crawler, cap: float):
        self.crawler = crawler
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("ARSHIF_MAX_RETRY_AFTER", 60))

    async def process_response(self, request, response, spider=None):
        import asyncio

        if response.status in (429, 503):
            value = response.headers.get(b"Retry-After")
            delay = _retry_after_seconds(value.decode("latin-1") if value else None)
            if delay:
                self.crawler.stats.inc_value("arshif/retry_after_waits")
                await asyncio.sleep(min(delay, self.cap))
        return response


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


class PageLimitMiddleware:
    """Stop at ARSHIF_MAX_PAGES downloads (a source's `[limits] max_pages`): a normal end, not a failure.

    Requests are counted as they leave for the downloader, so the limit is never
    overshot by what is in flight; once it is reached every further request is
    refused (`arshif/limit_skipped`), the spider stops queueing new ones, and the
    run drains and ends `finished` with `arshif/limit_reached` (the crawls row's
    `limit_reached`). Scrapy's robots.txt requests do not count.
    """

    def __init__(self, crawler, max_pages: int):
        self.crawler = crawler
        self.max_pages = max_pages
        self.issued = 0

    @classmethod
    def from_crawler(cls, crawler):
        max_pages = crawler.settings.getint("ARSHIF_MAX_PAGES", 0)
        if max_pages <= 0:
            raise NotConfigured  # no message: Scrapy would log it as a warning in every unlimited crawl
        return cls(crawler, max_pages)

    def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt"):  # RobotsTxtMiddleware's own request
            return None
        if self.issued < self.max_pages:
            self.issued += 1
            return None
        stats = self.crawler.stats
        if not stats.get_value("arshif/limit_reached"):
            stats.set_value("arshif/limit_reached", 1)
            logger.info("Page limit reached (%s pages): no new requests", self.max_pages)
            stop = getattr(self.crawler.spider, "stop_queueing", None)
            if stop is not None:
                stop()
        stats.inc_value("arshif/limit_skipped")
        raise IgnoreRequest(f"page limit reached: {request.url}")
