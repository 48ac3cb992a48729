"""The `news` spider: crawl one source from `seeds/` (start pages, sitemaps, feeds).

    scrapy crawl news -a source=demo
    scrapy crawl news -a source=seeds/aljazeera.toml

Listing pages are followed for links; pages whose URL matches the source's
article patterns are handed to the pipelines as raw bytes, which decide whether
they hold an article.

URLs read from sitemaps and feeds wait in the spider's pending queue, a few
hundred bytes each, and `start()` hands them to the scheduler only when it runs
low: a Request waiting in Scrapy's scheduler costs ~2 KB, and a site's sitemaps
list all its articles at once. Links join that queue too once the scheduler
holds LINK_ROOM requests (a page may link thousands of new URLs). The queue and
the set of URLs seen keep a bounded window in memory and the rest in a private
SQLite file (crawler/frontier.py); sitemaps are read streaming, one <url> at a
time, gzip included.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.core.scheduler import Scheduler
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

try:
    from scrapy.utils.asyncio import is_asyncio_available
except ImportError:  # Scrapy < 2.14
    from scrapy.utils.reactor import (
        is_asyncio_reactor_installed as is_asyncio_available,
    )

from crawler import unreachable
from crawler.frontier import (
    MEMORY_ENTRIES,
    FrontierStore,
    PendingQueue,
    SeenUrls,
    temporary_folder,
)
from crawler.items import PageItem
from crawler.sources import Source, load_source, rebase
from pipelines.archive.request_meta import ROLE, WARC_REF
from pipelines.outcomes.counters import count
from pipelines.outcomes.faults import FAULT_PREFIX, fault_reason
from pipelines.outcomes.write_failure import report as report_write_failure
from pipelines.similarity.urls import fetch_url

logger = logging.getLogger(__name__)
UNREACHABLE_REASONS = ("connection_refused", "dns_error")

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_ROLES = {"parse_article": "article", "parse_listing": "listing", "parse_sitemap": "sitemap", "parse_feed": "feed"}
VIA = "arshif_via"  # request.meta: how the URL was found (start, listing, article, sitemap, feed)
FEED_WAIT = 0.25  # seconds start() sleeps at most before looking at the scheduler again
LINK_ROOM = 1000  # links go to the pending queue, not the scheduler, once it holds this many requests
# parsel's parser options (recover, huge_tree), without a Selector object per matched node
_HTML_PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: str | None = None, base_url: str | None = None, *args, **kwargs):
        """`-a source=NAME_OR_PATH` (required), `-a base_url=ORIGIN` to crawl a local copy."""
        super().__init__(*args, **kwargs)
        if not source:
            raise ValueError("give a source: scrapy crawl news -a source=NAME_OR_PATH")
        loaded: Source = load_source(source)
        if base_url:
            loaded = rebase(loaded, base_url)
        self.source = loaded
        self.source_name = loaded.name
        self.allowed_domains = list(loaded.allowed_domains)
        self._frontier = FrontierStore(on_failure=self._frontier_failed)
        self._unreachable: set[str] = set()  # hosts that refused the connection or did not resolve: logged once
        self._seen_links = SeenUrls(self._frontier)  # absolute link URLs already turned into requests (or refused)
        # URLs found in sitemaps, feeds (and links, past LINK_ROOM) not yet requested, one packed string each
        self._pending = PendingQueue(self._frontier)
        self._lazy = False  # start() is feeding `_pending` to the scheduler
        self._room = 16  # start() keeps the scheduler at this many requests or fewer
        self._max_depth = 0  # DEPTH_LIMIT
        self._depth_priority = 0  # DEPTH_PRIORITY
        self._wakeup: asyncio.Future | None = None
        self._parsed: tuple = (None, None)  # (response, lxml root) of the page being read
        self._stopped = False  # the page limit was reached: no new requests (stop_queueing)
        self._sitemap_maxsize = 50 * 1024 * 1024  # ARSHIF_SITEMAP_MAXSIZE
        self._link_room = LINK_ROOM  # ARSHIF_LINK_ROOM

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        limits = spider.source.limits
        if limits.max_pages:  # crawler/middlewares.py PageLimitMiddleware; `-s ARSHIF_MAX_PAGES=N` wins
            crawler.settings.set("ARSHIF_MAX_PAGES", limits.max_pages, priority="spider")
        if limits.max_depth:
            crawler.settings.set("DEPTH_LIMIT", limits.max_depth, priority="spider")
        spider._max_depth = crawler.settings.getint("DEPTH_LIMIT")
        spider._depth_priority = crawler.settings.getint("DEPTH_PRIORITY")
        spider._room = max(16, crawler.settings.getint("CONCURRENT_REQUESTS"))
        spider._sitemap_maxsize = crawler.settings.getint("ARSHIF_SITEMAP_MAXSIZE", 50 * 1024 * 1024)
        spider._link_room = crawler.settings.getint("ARSHIF_LINK_ROOM", LINK_ROOM)
        memory = crawler.settings.getint("ARSHIF_FRONTIER_MEMORY", MEMORY_ENTRIES)
        spider._seen_links = SeenUrls(spider._frontier, memory)
        spider._pending = PendingQueue(spider._frontier, memory)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        unreachable.install()
        crawler.signals.connect(spider._on_download, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider._wake, signal=signals.scheduler_empty)
        return spider

    def _frontier_failed(self, exc: BaseException) -> None:
        """The frontier's temporary file cannot be written (TMPDIR full): one line, the run failed, the crawl stops."""
        report_write_failure(self.crawler, exc, f"the frontier's temporary file in {temporary_folder()}",
                             lead="Cannot write the crawl's frontier")

    def _closed(self, spider=None, reason=None) -> None:
        stats = self.crawler.stats
        stats.set_value("arshif/frontier_spilled", self._pending.spilled)  # pending entries that went to disk
        stats.set_value("arshif/seen_on_disk", self._seen_links.on_disk)
        self._frontier.close()

    async def start(self):
        """The seeds, then the pending queue, fed lazily until the crawl has nothing else left."""
        self._lazy = self._frontier_in_memory()
        for request in self._seeds():
            yield request
        while self._lazy:
            request = await self._next_pending()
            if request is not None:
                yield request

    def _seeds(self):
        for url in self.source.start_urls:
            yield self._request(url, self.parse_listing, "start", dont_filter=True)
        for url in self.source.sitemaps:
            yield self._request(url, self.parse_sitemap, "sitemap", dont_filter=True)
        if not self.source.sitemaps and self.source.discover_sitemaps:
            robots = urljoin(self.source.site_url, "/robots.txt")
            yield self._request(robots, self.parse_sitemap, "sitemap", dont_filter=True)
        for url in self.source.feeds:
            yield self._request(url, self.parse_feed, "feed", dont_filter=True)

    # -- the pending queue ----------------------------------------------------------

    def stop_queueing(self) -> None:
        """The page limit is reached: drop what waits and request nothing new; the run drains and ends."""
        self._stopped = True
        self._pending.clear()
        self._wake()

    def _frontier_in_memory(self) -> bool:
        """Lazy only with Scrapy's in-memory scheduler: with JOBDIR or the cluster's Redis queue,
        requests already live outside this process, and a queue held here would die with it."""
        scheduler = self._scheduler()
        return (is_asyncio_available() and isinstance(scheduler, Scheduler)
                and not getattr(scheduler, "dqdir", None))

    def _scheduler(self):
        engine = self.crawler.engine
        if hasattr(engine, "scheduler"):
            return engine.scheduler
        return getattr(getattr(engine, "_slot", None), "scheduler", None)  # Scrapy < 2.19

    async def _next_pending(self) -> scrapy.Request | None:
        """The next pending request once the scheduler has room; None (and the end of
        lazy feeding) when nothing is pending and nothing in flight can add to it."""
        while True:
            if self._pending and self._has_room():
                try:
                    entry = self._pending.popleft()
                except IndexError:  # the frontier's file failed while refilling: the queue is empty now
                    continue
                request = self._pending_request(entry)
                if request is not None:
                    return request
                continue
            if not self._pending and self._crawl_idle():
                self._lazy = False
                self._poke_engine()
                return None
            await self._sleep()

    def _has_room(self) -> bool:
        engine = self.crawler.engine
        return engine.running and len(self._scheduler()) < self._room

    def _crawl_idle(self) -> bool:
        """Nothing queued, downloading or being parsed: no sitemap or feed can still add URLs.

        The engine's own spider_is_idle() is False while start() runs, so it cannot say this.
        """
        engine = self.crawler.engine
        if not engine.running:
            return True
        slot = engine.scraper.slot
        return not engine.downloader.active and (slot is None or slot.is_idle()) \
            and not self._scheduler().has_pending_requests()

    def _poke_engine(self) -> None:
        """Let the engine see at once that start() ended (else at its 5 s heartbeat)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    async def _sleep(self) -> None:
        """Until a request reaches the downloader, the scheduler runs dry, a URL is queued, or FEED_WAIT."""
        loop = asyncio.get_running_loop()
        self._wakeup = loop.create_future()
        timer = loop.call_later(FEED_WAIT, self._wake)
        try:
            await self._wakeup
        finally:
            timer.cancel()
            self._wakeup = None

    def _on_download(self, request, spider=None) -> None:
        if self._pending:  # the scheduler gave one up: room for the next
            self._wake()

    def _wake(self, *args, **kwargs) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _queue(self, url: str, via: str, hints: dict, response: Response):
        """A URL from a sitemap or feed: a request now, or a compact pending entry while start() feeds them.

        A pending URL counts as seen, so a page linking it does not request it first
        (without the sitemap's date). The depth is the one Scrapy would give it, and
        DEPTH_LIMIT is applied here, as DepthMiddleware does not look at start requests.
        """
        if self._stopped:
            return
        if not self._lazy:
            request = self._follow(url, via, hints)
            if request is not None:
                yield request
            return
        if not url.startswith(("http://", "https://")) or "\x00" in url:
            return
        article = self.source.is_article_url(url)
        if not article and not self.source.is_followable(url):
            self._seen_links.add(url)
            return
        depth = response.meta.get("depth", 0) + 1
        if self._max_depth and depth > self._max_depth:
            self.crawler.stats.inc_value("depth/request_ignored_count")
            return
        self._seen_links.add(url)
        self._pending.append(_pack_pending(url, article, via, depth, hints if article else None))
        self._wake()

    def _pending_request(self, entry: str) -> scrapy.Request | None:
        """The entry's request, or None for a malformed URL (an exception here would end start())."""
        url, article, via, depth, hints = _unpack_pending(entry)
        callback = self.parse_article if article else self.parse_listing
        try:
            request = self._request(url, callback, via, hints, priority=-depth * self._depth_priority)
        except ValueError as exc:
            logger.debug("Bad URL %r: %s", url, exc)
            return None
        request.meta["depth"] = depth
        # queued as the sitemap's own request would be, not behind every link as start requests are
        request.meta["is_start_request"] = False
        self.crawler.stats.max_value("request_depth_max", depth)
        return request

    # -- requests -----------------------------------------------------------------

    def _request(self, url: str, callback, via: str, hints: dict | None = None, **kwargs) -> scrapy.Request:
        """`via` rides in meta and cb_kwargs only holds hints when there are some: no dict per request for nothing.
        Sitemaps get their own size limit: the protocol allows 50 MB, and a news site's often pass 10."""
        meta = {ROLE: _ROLES.get(callback.__name__, "other"), VIA: via}
        if meta[ROLE] == "sitemap":
            meta.update(download_maxsize=self._sitemap_maxsize, download_warnsize=self._sitemap_maxsize)
        return scrapy.Request(
            fetch_url(url),
            callback=callback,
            errback=self.on_error,
            cb_kwargs={"hints": hints} if hints else None,
            meta=meta,
            **kwargs,
        )

    def _follow(self, url: str, via: str, hints: dict | None = None):
        """A request for a discovered URL: article candidate, listing, or nothing (also for a malformed URL,
        which would otherwise end the page's callback and lose its other links)."""
        if not url.startswith(("http://", "https://")):
            return None
        try:
            if self.source.is_article_url(url):
                return self._request(url, self.parse_article, via, hints)
            if self.source.is_followable(url):
                return self._request(url, self.parse_listing, via)
        except ValueError as exc:
            logger.debug("Bad URL %r: %s", url, exc)
        return None

    def on_error(self, failure: Failure):
        """Count every failed request under its reason and log it once, with the URL."""
        request = failure.request
        reason = fault_reason(failure)
        if reason in ("robots_forbidden", "offsite") or (reason == "ignored" and not failure.check(HttpError)):
            return  # robots.txt and offsite filtering are counted by Scrapy itself
        count(self.crawler, "http_error")  # every failed fetch; `crawls.faults` has the breakdown
        self.crawler.stats.inc_value(f"{FAULT_PREFIX}{reason}")
        if reason in UNREACHABLE_REASONS:  # a site that is down: one line per host (crawler/unreachable.py)
            host = urlsplit(request.url).netloc
            if host not in self._unreachable:
                self._unreachable.add(host)
                logger.warning("Source %s: cannot reach %s (%s); its other failed requests are counted in "
                               "crawls.faults, not logged", self.source_name, host, reason)
                return
            logger.debug("Failed (%s): %s", reason, request.url)
            return
        logger.warning("Failed (%s): %s", reason, request.url)

    # -- callbacks ----------------------------------------------------------------

    # `via` as a keyword argument: requests queued in Redis by an earlier version carry it in cb_kwargs

    def parse_listing(self, response: Response, hints: dict | None = None, via: str | None = None):
        if not hasattr(response, "xpath"):
            return
        via = via or response.meta.get(VIA, "")
        if via != "start" and self.source.is_article_url(response.url):
            yield self._item(response, via, hints)
        for feed in self._feed_links(response):
            yield self._request(feed, self.parse_feed, "feed")
        yield from self._links(response, "listing")

    def parse_article(self, response: Response, hints: dict | None = None, via: str | None = None):
        yield self._item(response, via or response.meta.get(VIA, ""), hints)
        if hasattr(response, "xpath"):
            yield from self._links(response, "article")

    def parse_sitemap(self, response: Response, hints: dict | None = None, via: str | None = None):
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                yield self._request(url, self.parse_sitemap, "sitemap")
            return
        stream = self._sitemap_stream(response)
        entries = _sitemap_entries(stream) if stream is not None else None
        try:
            kind = next(entries) if entries is not None else None
        except (etree.XMLSyntaxError, ValueError, StopIteration) as exc:  # StopIteration: lxml found no root
            logger.warning("Not a sitemap: %s (%s)", response.url, exc)
            kind = None
        if kind is None:
            self.crawler.stats.inc_value("arshif/sitemap_unreadable")
            return
        for entry in entries:
            if kind == "sitemapindex":
                yield self._request(entry["loc"], self.parse_sitemap, "sitemap")
                continue
            if self._stopped:
                return
            news = "publication_date" in entry or "title" in entry  # a Google News entry's date, else <lastmod>
            hints = {"published": entry.get("publication_date") if news else entry.get("lastmod"), "title": entry.get("title")}
            yield from self._queue(entry["loc"], "sitemap", {k: v for k, v in hints.items() if v}, response)

    def _sitemap_stream(self, response: Response):
        """The XML of a sitemap as a stream: `.xml.gz` files served as application/x-gzip (no Content-Encoding,
        so Scrapy did not decompress them) are gunzipped as they are read, after a first pass has checked the
        whole file is within the sitemap size limit and intact (nothing of a bad file is queued)."""
        body = response.body
        if body[:2] != b"\x1f\x8b":
            return io.BytesIO(body)
        try:
            size = 0
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as unzipped:
                while chunk := unzipped.read(1 << 20):
                    size += len(chunk)
                    if size > self._sitemap_maxsize:
                        raise ValueError(f"more than {self._sitemap_maxsize} B")
        except Exception as exc:  # noqa: BLE001 (too large, OSError, EOFError, zlib.error)
            logger.warning("Sitemap %s not read: gzip body %s (limit ARSHIF_SITEMAP_MAXSIZE = %s B)",
                           response.url, type(exc).__name__, self._sitemap_maxsize)
            return None
        return gzip.GzipFile(fileobj=io.BytesIO(body))

    def parse_feed(self, response: Response, hints: dict | None = None, via: str | None = None):
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(recover=True, resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            logger.warning("Not a feed: %s (%s)", response.url, exc)
            return
        if root is None:
            return
        for entry in root.iter("{*}item", "{*}entry"):
            link = entry.findtext("{*}link") or ""
            if not link.strip():
                href = entry.find("{*}link[@href]")
                link = href.get("href") if href is not None else ""
            hints = {
                "title": (entry.findtext("{*}title") or "").strip() or None,
                "published": entry.findtext("{*}pubDate") or entry.findtext("{*}published") or entry.findtext("{*}updated"),
            }
            yield from self._queue(response.urljoin(link.strip()), "feed", {k: v for k, v in hints.items() if v}, response)

    # -- helpers ------------------------------------------------------------------

    def _links(self, response: Response, via: str):
        """Requests for the page's links, each URL once per crawl, in page order.

        A news page links the same 80 URLs as the last one (ticker, menus, most
        read): building a Request for each only for the dupefilter to drop it
        was two thirds of the reactor's time, so links seen before stop here,
        most of them before urljoin (see `_seen_form`). A page at DEPTH_LIMIT
        gives none: DepthMiddleware would drop them all, and marking them seen
        would hide them when a shallower page links them later.
        """
        if self._stopped or (self._max_depth and response.meta.get("depth", 0) >= self._max_depth):
            return
        base = get_base_url(response)  # honours <base href>, as response.urljoin does
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        seen = self._seen_links
        for href in dict.fromkeys(self._hrefs(response)):  # once each, in page order
            href = href.strip()
            if _seen_form(href, origin) in seen:
                continue
            url = urljoin(base, href)
            if url in seen:
                continue
            seen.add(url)
            if self._lazy and len(self._scheduler()) >= self._link_room:
                self._pend_link(url, via, response.meta.get("depth", 0) + 1)
                continue
            request = self._follow(url, via)
            if request is not None:
                yield request
        self._parsed = (None, None)

    def _pend_link(self, url: str, via: str, depth: int) -> None:
        """A link waits in the pending queue (bounded in memory) while the scheduler is full: what `_follow`
        would request, at the depth DepthMiddleware would give it."""
        if self._stopped or not url.startswith(("http://", "https://")) or "\x00" in url:
            return
        try:
            article = self.source.is_article_url(url)
            if not article and not self.source.is_followable(url):
                return
        except ValueError as exc:
            logger.debug("Bad URL %r: %s", url, exc)
            return
        self._pending.append(_pack_pending(url, article, via, depth, None))

    def _hrefs(self, response: Response) -> list[str]:
        """Every <a href>, as `//a/@href` gives them."""
        if not isinstance(response, HtmlResponse):
            return response.xpath("//a/@href").getall()
        return [href for a in self._tree(response).iter("a") if (href := a.get("href")) is not None]

    def _feed_links(self, response: Response):
        """Feeds announced with <link rel="alternate" type="application/rss+xml" ...>."""
        if isinstance(response, HtmlResponse):
            links = [(e.get("type"), e.get("href")) for e in self._tree(response).iter("link") if e.get("rel") == "alternate"]
        else:
            links = [(e.attrib.get("type"), e.attrib.get("href")) for e in response.xpath("//link[@rel='alternate']")]
        for kind, href in links:
            if (kind or "").lower() in _FEED_TYPES and href:
                yield response.urljoin(href)

    def _tree(self, response: HtmlResponse):
        """The page parsed by lxml as parsel would, once for its feeds and links.

        `response.xpath('//a/@href').getall()` made a parsel Selector per link:
        three times the cost of the parse itself.
        """
        if self._parsed[0] is not response:
            body = response.text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
            try:
                root = etree.fromstring(body, parser=_HTML_PARSER)
            except etree.LxmlError:  # not HTML at all, whatever the Content-Type said: no links
                root = None
            self._parsed = (response, root if root is not None else etree.fromstring(b"<html/>", parser=_HTML_PARSER))
        return self._parsed[1]

    def _item(self, response: Response, via: str, hints: dict | None) -> PageItem:
        content_type = response.headers.get("Content-Type")
        return PageItem(
            url=response.url,
            source=self.source.name,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status,
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            discovered_via=via,
            hints=hints or {},
            prune_selectors=self.source.prune_selectors,
            warc=response.meta.get(WARC_REF),
        )


def _pack_pending(url: str, article: bool, via: str, depth: int, hints: dict | None) -> str:
    """A pending URL as one string: 150 B instead of 360 for a tuple of its fields. A site's
    sitemaps are read first, so the queue's peak holds every URL they list (51,685 in
    bench/throughput's 50,000-page site: 18 MB as tuples)."""
    packed_hints = json.dumps(hints, ensure_ascii=False, separators=(",", ":")) if hints else ""
    return f"{depth}\x00{'a' if article else 'l'}\x00{via}\x00{url}\x00{packed_hints}"


def _unpack_pending(entry: str) -> tuple[str, bool, str, int, dict | None]:
    depth, kind, via, url, hints = entry.split("\x00", 4)  # _queue takes no URL with a NUL
    return url, kind == "a", via, int(depth), json.loads(hints) if hints else None


# what urljoin may rewrite in an href: empty params, query or fragment markers, dot segments, tabs and newlines
_REWRITTEN = re.compile(r"[;\t\r\n\\]|\?#|/\.|[?#]$")


def _seen_form(href: str, origin: str) -> str | None:
    """The URL urljoin makes of `href` when it only copies it, so the lookup in `_seen_links` needs no urljoin.

    That is an absolute http(s) href, or a root-relative one (origin + href),
    with nothing urljoin would rewrite. Any other href, or one resolved against
    another page's base, takes the full urljoin: a form is skipped only when it
    is exactly a URL urljoin made before.
    """
    if _REWRITTEN.search(href):
        return None
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and "//" not in href:
        return origin + href
    return None


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _sitemap_entries(stream):
    """The root's name (`urlset`, `sitemapindex`), then one dict per <url>/<sitemap> with a <loc>, streaming.

    One lxml iterparse over the stream, as Scrapy's Sitemap reads it (recover, no
    entities), each entry cleared once read, so memory holds one entry, not the
    file's tree. Fields by local name: loc, lastmod, and the Google News ones
    (<news:news><news:publication_date>, <news:title>), which Scrapy's Sitemap drops.
    """
    events = etree.iterparse(stream, events=("start", "end"), recover=True, remove_comments=True, remove_pis=True,
                             resolve_entities=False, remove_blank_text=True, collect_ids=False)
    _, root = next(events)
    yield _local(root.tag)
    for event, elem in events:
        if event != "end" or _local(elem.tag) not in ("url", "sitemap"):
            continue
        entry = {}
        for child in elem:
            name = _local(child.tag)
            if name == "news":
                for field in child:
                    if _local(field.tag) in ("publication_date", "title") and field.text:
                        entry[_local(field.tag)] = field.text.strip()
            elif name in ("loc", "lastmod"):
                entry[name] = (child.text or "").strip()
        elem.clear()
        while elem.getprevious() is not None:  # the entries already read
            del elem.getparent()[0]
        if entry.get("loc"):
            yield entry
