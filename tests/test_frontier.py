"""The spider's frontier: sitemap URLs fed to the scheduler lazily, and links resolved per page.

Real crawls (`arshif crawl` in a subprocess, the real Scrapy engine) of small
sites served on 127.0.0.1. `FrontierWatch`, a Scrapy extension loaded into the
crawl with `-s EXTENSIONS=...`, records how many requests the scheduler held and
what was fetched.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from scrapy import signals
from scrapy.http import HtmlResponse

from crawler.demo.server import SiteServer
from tests.conftest import crawl

HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}
ARTICLES = 400  # far more than the scheduler may hold at once


class FrontierWatch:
    """Scheduler size after every request scheduled, the spider's pending queue, every URL fetched."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.out = crawler.settings.get("FRONTIER_WATCH_OUT")
        self.most_scheduled = self.most_pending = 0
        self.fetched: Counter = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        watch = cls(crawler)
        crawler.signals.connect(watch.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(watch.received, signal=signals.response_received)
        crawler.signals.connect(watch.closed, signal=signals.spider_closed)
        return watch

    def scheduled(self, request, spider=None):
        # sent before the scheduler takes the request: +1 for it
        self.most_scheduled = max(self.most_scheduled, len(self.crawler.engine.scheduler) + 1)
        self.most_pending = max(self.most_pending, len(getattr(self.crawler.spider, "_pending", ())))

    def received(self, response, request, spider=None):
        self.fetched[response.url] += 1

    def closed(self, spider, reason):
        with open(self.out, "w", encoding="utf-8") as file:
            json.dump({"most_scheduled": self.most_scheduled, "most_pending": self.most_pending,
                       "fetched": self.fetched, "reason": reason}, file)


def _watched(tmp_path) -> list[str]:
    return ["-s", 'EXTENSIONS={"tests.test_frontier.FrontierWatch": 0}', "-s", f"FRONTIER_WATCH_OUT={tmp_path / 'watch.json'}",
            "-s", "CONCURRENT_REQUESTS=4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]


def _watch(tmp_path) -> dict:
    return json.loads((tmp_path / "watch.json").read_text(encoding="utf-8"))


def _article(n: int) -> bytes:
    # no links and no Arabic body: pages are fetched and judged, nothing more (fast)
    return f"<html><head><title>page {n}</title></head><body><p>short page {n}</p></body></html>".encode()


def _sitemap(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc><lastmod>2025-06-01</lastmod></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


def _index(urls: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'.encode()


def _source(tmp_path, origin: str, extra: str = "") -> str:
    path = tmp_path / "frontier.toml"
    path.write_text(
        f'name = "frontier"\nsite_url = "{origin}/"\nstart_urls = ["{origin}/"]\n'
        "article_allow = ['/news/']\nfollow_allow = ['/$', '/section/']\nallow_loopback = true\n" + extra,
        encoding="utf-8",
    )
    return str(path)


def test_sitemap_urls_reach_the_scheduler_lazily_and_each_is_fetched_once(tmp_path):
    with SiteServer(tmp_path) as server:
        o = server.origin
        half = ARTICLES // 2
        news = [f"{o}/news/{n}.html" for n in range(ARTICLES)]
        routes = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, f"User-agent: *\nDisallow: /private/\nSitemap: {o}/index.xml\n".encode()),
            # the index lists: two sitemaps, one twice (dupefilter: no callback), one missing (404),
            # one robots.txt forbids and one offsite (IgnoreRequest: errback only)
            "/index.xml": (200, XML, _index([f"{o}/a.xml", f"{o}/b.xml", f"{o}/a.xml", f"{o}/missing.xml",
                                              f"{o}/private/c.xml", "http://elsewhere.invalid/d.xml"])),
            "/a.xml": (200, XML, _sitemap(news[:half])),
            "/b.xml": (200, XML, _sitemap(news[half:] + news[:10])),  # ten URLs listed twice
            "/": (200, HTML, b'<html><body><a href="/news/0.html">0</a><a href="/section/x">x</a></body></html>'),
            "/section/x": (200, HTML, f'<html><body><a href="{o}/news/1.html">1</a></body></html>'.encode()),
        }
        routes.update({f"/news/{n}.html": (200, HTML, _article(n)) for n in range(ARTICLES)})
        server.httpd.RequestHandlerClass.extra_routes = routes
        run = crawl(_source(tmp_path, o), tmp_path / "archive.db", o, *_watched(tmp_path))
    assert run.returncode in (0, 2), run.stderr[-3000:]  # 2: no article stored (the pages are too short)
    watch = _watch(tmp_path)
    assert watch["reason"] == "finished"
    fetched = watch["fetched"]
    assert {u for u in fetched if "/news/" in u} == set(news)
    twice = {u: c for u, c in fetched.items() if c > 1 and not u.endswith("/robots.txt")}  # robots: Scrapy's and ours
    assert not twice, twice
    # the sitemaps held 400 URLs; the scheduler never more than its room (16) and a few seeds/links
    assert watch["most_pending"] > 300
    assert watch["most_scheduled"] <= 24, watch["most_scheduled"]
    stats = run.last_crawl()["stats"]
    assert stats["finish_reason"] == "finished"
    # URLs found in sitemaps keep the depth Scrapy gives them: robots 0, index 1, sitemap 2, page 3
    assert stats["request_depth_max"] == 3


def test_sitemap_urls_respect_depth_limit_and_max_pages(tmp_path):
    with SiteServer(tmp_path) as server:
        o = server.origin
        news = [f"{o}/news/{n}.html" for n in range(60)]
        routes = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, f"User-agent: *\nSitemap: {o}/index.xml\n".encode()),
            "/index.xml": (200, XML, _index([f"{o}/a.xml"])),
            "/a.xml": (200, XML, _sitemap(news)),
            "/": (200, HTML, b"<html><body>home</body></html>"),
        }
        routes.update({f"/news/{n}.html": (200, HTML, _article(n)) for n in range(60)})
        server.httpd.RequestHandlerClass.extra_routes = routes
        # robots (0) → index (1) → sitemap (2) → pages (3): a depth limit of 2 keeps the pages out
        shallow = crawl(_source(tmp_path, o, "[limits]\nmax_depth = 2\n"), tmp_path / "shallow.db", o, *_watched(tmp_path))
        assert not any("/news/" in u for u in _watch(tmp_path)["fetched"])
        assert shallow.last_crawl()["stats"]["depth/request_ignored_count"] == 60
        limited = crawl(_source(tmp_path, o, "[limits]\nmax_pages = 20\n"), tmp_path / "limited.db", o, *_watched(tmp_path))
    row = limited.last_crawl()
    assert row["stats"]["finish_reason"] == "finished" and row["status"] == "finished" and row["limit_reached"] == 1
    assert sum(_watch(tmp_path)["fetched"].values()) == 20 + 1  # the limit exactly, and Scrapy's own robots.txt


def _page(links: str, base: str = "") -> bytes:
    return f"<html><head>{base}</head><body>{links}</body></html>".encode()


def test_a_relative_link_is_resolved_against_each_page(tmp_path):
    """The href cache must not reuse one page's resolution of "story.html" for another page."""
    with SiteServer(tmp_path) as server:
        o = server.origin
        routes = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\n"),
            "/": (200, HTML, _page('<a href="/section/a/">a</a> <a href="/section/b/">b</a> <a href="/section/c/">c</a>'
                                   '<a href="/news/top.html">top</a>')),
            "/section/a/": (200, HTML, _page('<a href="story.html">s</a> <a href="/news/top.html">top</a>'
                                             '<a href="../a/x/../other.html">o</a>')),
            "/section/b/": (200, HTML, _page('<a href="story.html">s</a> <a href="/news/top.html">top</a>')),
            # <base href>: relative links follow the base, not the page
            "/section/c/": (200, HTML, _page('<a href="story.html">s</a> <a href="/news/top.html">top</a>',
                                             '<base href="/section/d/">')),
        }
        for path in ("/section/a/story.html", "/section/b/story.html", "/section/d/story.html", "/news/top.html",
                     "/section/a/other.html"):
            routes[path] = (200, HTML, _page(""))
        server.httpd.RequestHandlerClass.extra_routes = routes
        path = Path(_source(tmp_path, o, "discover_sitemaps = false\n"))
        path.write_text(path.read_text(encoding="utf-8").replace("['/news/']", "['/news/', 'story', 'other']"), encoding="utf-8")
        run = crawl(str(path), tmp_path / "archive.db", o, *_watched(tmp_path))
    assert run.returncode in (0, 2), run.stderr[-3000:]
    fetched = _watch(tmp_path)["fetched"]
    assert {u for u in fetched if u.endswith("story.html")} == {
        f"{o}/section/a/story.html", f"{o}/section/b/story.html", f"{o}/section/d/story.html"}
    assert f"{o}/section/a/other.html" in fetched and f"{o}/news/top.html" in fetched
    assert all(count == 1 for url, count in fetched.items() if not url.endswith("/robots.txt"))


def _former_links(spider, response, reference: set[str]) -> list[str]:
    """What `_links` did before the href cache: parsel's //a/@href and response.urljoin for every href."""
    urls = []
    for href in dict.fromkeys(response.xpath("//a/@href").getall()):
        joined = response.urljoin(href.strip())
        if joined not in reference:
            reference.add(joined)
            if (request := spider._follow(joined, "article")) is not None:
                urls.append(request.url)
    return urls


def test_links_match_urljoin_on_every_page():
    """`_links` gives the URLs `response.urljoin` gives, once each, in page order, whatever the href's form."""
    import html
    import random

    from crawler.spiders.news import NewsSpider

    spider = NewsSpider(source="demo", base_url="http://127.0.0.1:1")
    spider.source = replace(spider.source, article_allow=(), follow_allow=())  # every http(s) URL is a candidate
    pieces = ["/", "//", "/./", "/../", "..", ".", "a", "1.html", "?", "?x=1", "#", "#f", ";", ";p", "?#", "%20", " ", "\t",
              "&amp;", "\u00e9", "\\", "\x01", "http://127.0.0.1:1", "https://127.0.0.1:1", "HTTP://127.0.0.1:1",
              "http://other.example", "//127.0.0.1:1"]
    pages = ["http://127.0.0.1:1/", "http://127.0.0.1:1/a/b.html", "https://127.0.0.1:1/a/", "http://other.example/q"]
    bases = ["", '<base href="/z/">', '<base href="http://other.example/k/">', '<base href="../">']
    # urljoin copies an href whose scheme differs from the page's, and rewrites it ("x;" → "x") otherwise
    tricky = ["http://127.0.0.1:1/articles/3.html;", "http://127.0.0.1:1/articles/4.html?", "/articles/5.html#"]
    fixed = [("https://127.0.0.1:1/a/", tricky, ""), ("http://127.0.0.1:1/", tricky, ""), ("http://other.example/", tricky, "")]
    rng = random.Random(7)
    expected, got, reference = [], [], set()
    for n in range(400):
        hrefs = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(20)]
        hrefs += ["/articles/1.html", "http://127.0.0.1:1/articles/2.html", "story.html"]  # on every page
        url, base = rng.choice(pages), rng.choice(bases)
        if n < len(fixed):
            url, hrefs, base = fixed[n]
        body = _page("".join(f'<a href="{html.escape(h)}">x</a>' for h in hrefs), base)
        expected += _former_links(spider, HtmlResponse(url, body=body, encoding="utf-8"), reference)
        got += [request.url for request in spider._links(HtmlResponse(url, body=body, encoding="utf-8"), "article")]
    assert got == expected
    assert len(got) > 2000


def test_a_pending_url_packs_into_one_string_and_back():
    """The queue keeps one string per pending URL; unpacking gives back every field, Arabic hints included."""
    import sys

    from crawler.spiders.news import _pack_pending, _unpack_pending

    hints = {"published": "2026-11-22T09:30:00+03:00", "title": "افتتاح جسر جديد\tيربط \"ضفتي\" النهر"}
    cases = [
        ("https://news.test/ar/2026/11/22/جسر?id=7&x=ـ", True, "sitemap", 1, hints),
        ("https://news.test/ar/section/page/2", False, "feed", 3, None),
        ("https://news.test/a", True, "sitemap", 0, None),
    ]
    for case in cases:
        packed = _pack_pending(*case)
        assert isinstance(packed, str)
        assert _unpack_pending(packed) == case
    as_tuple = (cases[0][0], True, "sitemap", 1, tuple(hints.items()))
    packed = _pack_pending(*cases[0])
    assert sys.getsizeof(packed) < sys.getsizeof(as_tuple) + sum(sys.getsizeof(v) for v in as_tuple) + sum(
        sys.getsizeof(v) for item in as_tuple[4] for v in item)


def test_sitemap_urls_spill_to_disk_past_the_memory_window_and_each_is_fetched_once(tmp_path):
    """A window of 30 URLs for 400 listed (gzipped, as `.xml.gz` is served): the rest wait on disk, in order, none lost."""
    import gzip

    with SiteServer(tmp_path) as server:
        o = server.origin
        news = [f"{o}/news/{n}.html" for n in range(ARTICLES)]
        routes = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, f"User-agent: *\nSitemap: {o}/a.xml.gz\n".encode()),
            "/a.xml.gz": (200, {"Content-Type": "application/x-gzip"}, gzip.compress(_sitemap(news + news[:10]))),
            "/": (200, HTML, b"<html><body>home</body></html>"),
        }
        routes.update({f"/news/{n}.html": (200, HTML, _article(n)) for n in range(ARTICLES)})
        server.httpd.RequestHandlerClass.extra_routes = routes
        run = crawl(_source(tmp_path, o), tmp_path / "archive.db", o, *_watched(tmp_path), "-s", "ARSHIF_FRONTIER_MEMORY=30")
    assert run.returncode in (0, 2), run.stderr[-3000:]
    watch = _watch(tmp_path)
    assert {u for u in watch["fetched"] if "/news/" in u} == set(news)
    assert not {u: c for u, c in watch["fetched"].items() if c > 1 and not u.endswith("/robots.txt")}
    stats = run.last_crawl()["stats"]
    assert stats["finish_reason"] == "finished"
    assert stats["arshif/frontier_spilled"] >= ARTICLES - 30 - 16  # all but the window (and what the scheduler took)
    assert stats["arshif/seen_on_disk"] >= ARTICLES - 30
    assert stats["request_depth_max"] == 2  # robots 0, sitemap 1, page 2


def test_a_link_fan_out_waits_on_disk_and_the_page_limit_ends_it(tmp_path):
    """Every page links 300 new article URLs: past ARSHIF_LINK_ROOM the links wait in the pending queue (on disk past
    its window), the scheduler stays small, each URL is fetched once, and max_pages ends the run at once."""
    fanout = 300

    with SiteServer(tmp_path) as server:
        o = server.origin
        routes = {"/": (200, HTML, _page("".join(f'<a href="/news/0-{k}.html">x</a>' for k in range(fanout))))}
        # the home page links 300 pages, each of which links 300 new ones
        for k in range(fanout):
            routes[f"/news/0-{k}.html"] = (200, HTML, _page("".join(f'<a href="/news/{k + 1}-{j}.html">y</a>' for j in range(fanout))))
        server.httpd.RequestHandlerClass.extra_routes = routes
        run = crawl(_source(tmp_path, o, "[limits]\nmax_pages = 120\n"), tmp_path / "archive.db", o, *_watched(tmp_path),
                    "-s", "ARSHIF_LINK_ROOM=50", "-s", "ARSHIF_FRONTIER_MEMORY=100")
    assert run.returncode in (0, 2), run.stderr[-3000:]
    watch = _watch(tmp_path)
    row = run.last_crawl()
    assert row["status"] == "finished" and row["limit_reached"] == 1
    assert sum(watch["fetched"].values()) == 120 + 1  # the limit exactly, and Scrapy's own robots.txt
    assert not {u: c for u, c in watch["fetched"].items() if c > 1 and not u.endswith("/robots.txt")}
    assert watch["most_scheduled"] <= 50 + fanout, watch["most_scheduled"]  # one page's links past the room at most
    assert row["stats"]["arshif/frontier_spilled"] > 0


def test_the_pending_queue_keeps_fifo_order_across_memory_and_disk():
    from crawler.frontier import FrontierStore, PendingQueue

    store = FrontierStore()
    queue = PendingQueue(store, memory=7, batch=3)
    out = []
    for n in range(100):  # interleaved: some read while others are on disk or still buffered
        queue.append(f"e{n}")
        if n % 3 == 0:
            out.append(queue.popleft())
        assert len(queue) == n + 1 - len(out)
    assert queue.spilled > 0 and queue.on_disk > 0
    while queue:
        out.append(queue.popleft())
    assert out == [f"e{n}" for n in range(100)]
    queue.append("x")
    queue.clear()
    assert not queue and len(queue) == 0
    store.close()


def test_a_frontier_whose_file_fails_reports_once_and_takes_nothing_more():
    """The file stops working (as in a full TMPDIR: tests/test_full_tmpdir.py has the real one): the failure is
    reported once, the queue is empty, every URL counts as seen, and no call raises but popleft on empty."""
    from crawler.frontier import FrontierStore, PendingQueue, SeenUrls

    failures = []
    store = FrontierStore(on_failure=failures.append)
    queue, seen = PendingQueue(store, memory=3, batch=2), SeenUrls(store, memory=3)
    for n in range(10):
        queue.append(f"e{n}")
        seen.add(f"https://news.test/{n}")
    assert queue.on_disk and seen.on_disk
    store._conn.close()  # every later statement fails with sqlite3.ProgrammingError, a sqlite3.Error
    assert [queue.popleft() for _ in range(3)] == ["e0", "e1", "e2"]  # the memory window: no file needed
    with pytest.raises(IndexError):
        queue.popleft()  # the refill from disk fails: the queue is empty from now on
    assert len(failures) == 1 and "closed" in str(failures[0])
    assert not queue and len(queue) == 0
    queue.append("late")
    for n in range(10):
        queue.append(f"more{n}")
        seen.add(f"https://news.test/more{n}")
    assert not queue and "https://news.test/never-added" in seen
    queue.clear()
    assert len(failures) == 1
    store.close()


def test_seen_urls_spill_to_disk_and_still_answer():
    from crawler.frontier import FrontierStore, SeenUrls

    store = FrontierStore()
    seen = SeenUrls(store, memory=64)
    urls = [f"https://news.test/ar/{n}" for n in range(1_000)]
    for url in urls[::2]:
        seen.add(url)
    assert seen.on_disk > 0 and len(seen.recent) < 64
    assert all(url in seen for url in urls[::2])
    assert not any(url in seen for url in urls[1::2])
    assert None not in seen
    store.close()


def _sitemap_requests(body: bytes, maxsize: int = 50 * 1024 * 1024, unreadable: int = 0) -> list:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.spiders.news import NewsSpider

    crawler = get_crawler(NewsSpider)
    crawler.stats.open_spider()
    spider = NewsSpider(source="demo", base_url="http://127.0.0.1:1")
    spider.crawler = crawler
    spider.source = replace(spider.source, article_allow=("/news/",), follow_allow=())
    spider._sitemap_maxsize = maxsize
    url = "http://127.0.0.1:1/s.xml.gz"
    requests = list(spider.parse_sitemap(Response(url, body=body, request=Request(url))))
    assert (crawler.stats.get_value("arshif/sitemap_unreadable") or 0) == unreadable
    return requests


def test_a_sitemap_is_read_streaming_with_its_news_fields_and_a_bad_gzip_queues_nothing():
    import gzip

    o = "http://127.0.0.1:1"
    news = ('<url><loc>{o}/news/{n}.html</loc><lastmod>2025-01-0{n}</lastmod><news:news><news:publication><news:name>x'
            '</news:name></news:publication><news:publication_date>2025-03-0{n}</news:publication_date>'
            '<news:title> عنوان {n} </news:title></news:news></url>')
    body = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            + news.format(o=o, n=1)
            + f"<url><loc>{o}/news/2.html</loc><lastmod>2025-01-02</lastmod></url>"
            + f"<url><loc> {o}/news/3.html </loc></url><url><lastmod>2025-01-04</lastmod></url>"  # spaces; no <loc>
            + "</urlset>").encode()
    for served in (body, gzip.compress(body)):
        requests = _sitemap_requests(served)
        assert [r.url for r in requests] == [f"{o}/news/1.html", f"{o}/news/2.html", f"{o}/news/3.html"]
        assert [r.cb_kwargs.get("hints") for r in requests] == [
            {"published": "2025-03-01", "title": "عنوان 1"}, {"published": "2025-01-02"}, None]
    packed = gzip.compress(body)
    assert _sitemap_requests(packed[:-12], unreadable=1) == []  # truncated: nothing of it is queued
    assert _sitemap_requests(packed, maxsize=len(body) - 1, unreadable=1) == []  # over ARSHIF_SITEMAP_MAXSIZE once gunzipped
    assert len(_sitemap_requests(packed, maxsize=len(body))) == 3
