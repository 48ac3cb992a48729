"""The `news` spider: crawl one source from `seeds/` (start pages, sitemaps, feeds).

    scrapy crawl news -a source=demo
    scrapy crawl news -a source=seeds/aljazeera.toml

Listing pages are followed for links; pages whose URL matches the source's
article patterns are handed to the pipelines as raw bytes, which decide whether
they hold an article.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urljoin

import scrapy
from lxml import etree
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawler.faults import FAULT_PREFIX, fault_reason
from crawler.items import PageItem
from crawler.middlewares import ROLE, WARC_REF
from crawler.sources import Source, load_source, rebase
from pipelines.outcomes import count
from pipelines.urls import fetch_url

logger = logging.getLogger(__name__)

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_ROLES = {"parse_article": "article", "parse_listing": "listing", "parse_sitemap": "sitemap", "parse_feed": "feed"}


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
        self._seen_links: set[str] = set()  # absolute link URLs already turned into requests (or refused)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        limits = spider.source.limits
        if limits.max_pages:
            crawler.settings.set("CLOSESPIDER_PAGECOUNT", limits.max_pages, priority="spider")
        if limits.max_depth:
            crawler.settings.set("DEPTH_LIMIT", limits.max_depth, priority="spider")
        return spider

    async def start(self):
        for url in self.source.start_urls:
            yield self._request(url, self.parse_listing, "start", dont_filter=True)
        for url in self.source.sitemaps:
            yield self._request(url, self.parse_sitemap, "sitemap", dont_filter=True)
        if not self.source.sitemaps and self.source.discover_sitemaps:
            robots = urljoin(self.source.site_url, "/robots.txt")
            yield self._request(robots, self.parse_sitemap, "sitemap", dont_filter=True)
        for url in self.source.feeds:
            yield self._request(url, self.parse_feed, "feed", dont_filter=True)

    # -- requests -----------------------------------------------------------------

    def _request(self, url: str, callback, via: str, hints: dict | None = None, **kwargs) -> scrapy.Request:
        return scrapy.Request(
            fetch_url(url),
            callback=callback,
            errback=self.on_error,
            cb_kwargs={"via": via, "hints": hints or {}},
            meta={ROLE: _ROLES.get(callback.__name__, "other")},
            **kwargs,
        )

    def _follow(self, url: str, via: str, hints: dict | None = None):
        """A request for a discovered URL: article candidate, listing, or nothing."""
        if not url.startswith(("http://", "https://")):
            return None
        if self.source.is_article_url(url):
            return self._request(url, self.parse_article, via, hints)
        if self.source.is_followable(url):
            return self._request(url, self.parse_listing, via)
        return None

    def on_error(self, failure: Failure):
        """Count every failed request under its reason and log it once, with the URL."""
        request = failure.request
        reason = fault_reason(failure)
        if reason in ("robots_forbidden", "offsite") or (reason == "ignored" and not failure.check(HttpError)):
            return  # robots.txt and offsite filtering are counted by Scrapy itself
        count(self.crawler, "http_error")  # every failed fetch; `crawls.faults` has the breakdown
        self.crawler.stats.inc_value(f"{FAULT_PREFIX}{reason}")
        logger.warning("Failed (%s): %s", reason, request.url)

    # -- callbacks ----------------------------------------------------------------

    def parse_listing(self, response: Response, via: str, hints: dict):
        if not hasattr(response, "xpath"):
            return
        if via != "start" and self.source.is_article_url(response.url):
            yield self._item(response, via, hints)
        for feed in response.xpath("//link[@rel='alternate']"):
            if (feed.attrib.get("type") or "").lower() in _FEED_TYPES and feed.attrib.get("href"):
                yield self._request(response.urljoin(feed.attrib["href"]), self.parse_feed, "feed")
        yield from self._links(response, "listing")

    def parse_article(self, response: Response, via: str, hints: dict):
        yield self._item(response, via, hints)
        if hasattr(response, "xpath"):
            yield from self._links(response, "article")

    def parse_sitemap(self, response: Response, via: str, hints: dict):
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield self._request(url, self.parse_sitemap, "sitemap")
            return
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, ValueError) as exc:
            logger.warning("Not a sitemap: %s (%s)", response.url, exc)
            return
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                yield self._request(entry["loc"], self.parse_sitemap, "sitemap")
            return
        news = _news_entries(response.body)
        for entry in sitemap:
            hints = news.get(entry["loc"]) or {}
            if entry.get("lastmod"):
                hints.setdefault("published", entry["lastmod"])
            request = self._follow(entry["loc"], "sitemap", {k: v for k, v in hints.items() if v})
            if request is not None:
                yield request

    def parse_feed(self, response: Response, via: str, hints: dict):
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
            request = self._follow(response.urljoin(link.strip()), "feed", {k: v for k, v in hints.items() if v})
            if request is not None:
                yield request

    # -- helpers ------------------------------------------------------------------

    def _links(self, response: Response, via: str):
        """Requests for the page's links, each URL once per crawl.

        A news page links the same 80 URLs as the last one (ticker, menus, most
        read): building a Request for each only for the dupefilter to drop it
        was two thirds of the reactor's time, so links seen before stop here.
        """
        for href in dict.fromkeys(response.xpath("//a/@href").getall()):  # once each, in page order
            url = response.urljoin(href.strip())
            if url in self._seen_links:
                continue
            self._seen_links.add(url)
            request = self._follow(url, via)
            if request is not None:
                yield request

    def _item(self, response: Response, via: str, hints: dict) -> PageItem:
        content_type = response.headers.get("Content-Type")
        return PageItem(
            url=response.url,
            source=self.source.name,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status,
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            discovered_via=via,
            hints=hints,
            prune_selectors=self.source.prune_selectors,
            warc=response.meta.get(WARC_REF),
        )


_NEWS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}


def _news_entries(body: bytes) -> dict[str, dict]:
    """Google News sitemap fields per <loc>: publication date and title (Scrapy's Sitemap drops them)."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False, huge_tree=False))
    except etree.XMLSyntaxError:
        return {}
    if root is None:
        return {}
    entries = {}
    for url in root.iterfind("sm:url", _NEWS):
        loc = (url.findtext("sm:loc", namespaces=_NEWS) or "").strip()
        published = url.findtext("news:news/news:publication_date", namespaces=_NEWS)
        title = url.findtext("news:news/news:title", namespaces=_NEWS)
        if loc and (published or title):
            entries[loc] = {"published": (published or "").strip() or None, "title": (title or "").strip() or None}
    return entries
