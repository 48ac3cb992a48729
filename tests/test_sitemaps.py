"""Real sitemaps: `.xml.gz` served as application/x-gzip, and spec-size sitemaps (issue 18, item 10)."""

from __future__ import annotations

import gzip

from crawler.demo.server import DEMO_SITE, SiteServer
from tests.conftest import crawl

ARTICLES = ["1001", "1002", "1005", "1006"]


def _urlset(origin: str, entries: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "".join(entries) + "</urlset>\n").encode()


def _entry(url: str, padding: int = 0) -> str:
    title = "عنوان الخبر " + "ن" * padding
    return (f"<url><loc>{url}</loc><news:news><news:publication><news:name>x</news:name><news:language>ar</news:language>"
            f"</news:publication><news:publication_date>2025-03-01</news:publication_date><news:title>{title}</news:title>"
            "</news:news></url>\n")


def _source(tmp_path, origin: str, sitemaps: list[str]):
    path = tmp_path / "sitemaps.toml"
    path.write_text(
        f'name = "sitemaps"\nsite_url = "{origin}/"\nsitemaps = {sitemaps!r}\ndiscover_sitemaps = false\n'
        f'allowed_domains = ["127.0.0.1"]\narticle_allow = [\'/articles/[^/]+\\.html\']\nfollow_allow = ["/section/"]\nallow_loopback = true\n'
        '[limits]\nmax_depth = 1\n', encoding="utf-8")
    return path


def _routes(built: dict):
    def route(name, content_type, compress=False):
        def serve(handler):
            if name not in built:
                origin = handler.server.origin
                body = built[f"{name}:make"](origin)
                built[name] = gzip.compress(body) if compress else body
            return 200, {"Content-Type": content_type}, built[name]
        return serve
    return route


def test_a_gzipped_sitemap_served_as_x_gzip_is_read(tmp_path):
    built = {"news:make": lambda origin: _urlset(origin, [_entry(f"{origin}/articles/{n}.html") for n in ARTICLES])}
    route = _routes(built)
    with SiteServer(DEMO_SITE, extra_routes={"/sitemap-news.xml.gz": route("news", "application/x-gzip", compress=True)}) as server:
        source = _source(tmp_path, server.origin, [f"{server.origin}/sitemap-news.xml.gz"])
        run = crawl(str(source), tmp_path / "archive.db", server.origin)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.db["articles"].count == len(ARTICLES)
    assert "StopIteration" not in run.stderr


def test_a_26_mb_sitemap_of_50000_urls_is_accepted(tmp_path):
    def make(origin):
        entries = [_entry(f"{origin}/archive/{i}/story-{i}.html", padding=200) for i in range(50_000 - len(ARTICLES))]
        return _urlset(origin, entries + [_entry(f"{origin}/articles/{n}.html") for n in ARTICLES])

    built = {"big:make": make, "biggz:make": make}
    route = _routes(built)
    routes = {"/big.xml": route("big", "application/xml"), "/big.xml.gz": route("biggz", "application/x-gzip", compress=True)}
    with SiteServer(DEMO_SITE, extra_routes=routes) as server:
        for name in ("big.xml", "big.xml.gz"):
            source = _source(tmp_path, server.origin, [f"{server.origin}/{name}"])
            run = crawl(str(source), tmp_path / f"{name}.db", server.origin)
            assert run.returncode == 0, run.stderr[-3000:]
            assert run.db["articles"].count == len(ARTICLES), name
    size = len(built["big"])
    assert 25 * 1024 * 1024 < size < 50 * 1024 * 1024 and built["big"].count(b"<url>") == 50_000, size
