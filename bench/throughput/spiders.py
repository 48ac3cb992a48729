"""The two reference crawls of the throughput benchmark, beside Arshif's own `news` spider.

- FetchSpider (a): downloads and follows links, yields nothing but requests.
- NaiveSpider (b): what a first version would do: trafilatura.bare_extraction
  with metadata in the callback, langdetect on the text, and NaiveSQLitePipeline
  inserting each item with a commit per row.

Both read the start points and URL patterns of the benchmark's source file, so
the three crawls fetch the same pages.
"""

from __future__ import annotations

import re
import sqlite3

import scrapy
from scrapy.utils.sitemap import Sitemap

from crawler.sources import load_source, rebase


class FetchSpider(scrapy.Spider):
    name = "bench_fetch"

    def __init__(self, source: str, base_url: str, seen_links: str = "", *args, **kwargs):
        """`seen_links=1`: skip links already yielded once (a set lookup instead of a Request each)."""
        super().__init__(*args, **kwargs)
        self.seen: set[str] | None = set() if seen_links else None
        self.source = rebase(load_source(source), base_url)
        self.allowed_domains = list(self.source.allowed_domains)
        self.article_re = [re.compile(p) for p in self.source.article_allow]
        self.follow_re = [re.compile(p) for p in self.source.follow_allow]

    async def start(self):
        for url in self.source.start_urls:
            yield scrapy.Request(url, self.parse_listing, dont_filter=True)
        for url in self.source.sitemaps:
            yield scrapy.Request(url, self.parse_sitemap, dont_filter=True)

    def parse_sitemap(self, response):
        sitemap = Sitemap(response.body)
        for entry in sitemap:
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(entry["loc"], self.parse_sitemap)
            else:
                yield from self._follow(entry["loc"])

    def parse_listing(self, response):
        yield from self._links(response)

    def parse_article(self, response):
        yield from self._links(response)

    def _links(self, response):
        for href in response.xpath("//a/@href").getall():
            yield from self._follow(response.urljoin(href.strip()))

    def _follow(self, url: str):
        if self.seen is not None:
            if url in self.seen:
                return
            self.seen.add(url)
        if any(p.search(url) for p in self.article_re):
            yield scrapy.Request(url, self.parse_article)
        elif any(p.search(url) for p in self.follow_re):
            yield scrapy.Request(url, self.parse_listing)


class NaiveSpider(FetchSpider):
    """Extraction and language detection in the callback, on the reactor thread."""

    name = "bench_naive"

    def parse_article(self, response):
        import trafilatura
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0
        doc = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        text = (doc.text if doc is not None else "") or ""
        try:
            language = detect(text) if text else None
        except LangDetectException:
            language = None
        yield {
            "url": response.url,
            "title": doc.title if doc is not None else None,
            "author": doc.author if doc is not None else None,
            "published": doc.date if doc is not None else None,
            "language": language,
            "text": text,
        }
        yield from self._links(response)


class NaiveSQLitePipeline:
    """One INSERT and one COMMIT per item, default journal mode: the obvious first version."""

    def __init__(self, path: str):
        self.path = path
        self.db: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("BENCH_NAIVE_DB"))

    def open_spider(self, spider=None):
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, author TEXT,"
                        " published TEXT, language TEXT, text TEXT)")

    def process_item(self, item):
        self.db.execute("INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                        (item["url"], item["title"], item["author"], item["published"], item["language"], item["text"]))
        self.db.commit()
        return item

    def close_spider(self, spider=None):
        self.db.close()
