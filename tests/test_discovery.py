"""Discovery: robots.txt Sitemap lines, sitemap indexes, news sitemaps, Atom feeds found from pages."""

from __future__ import annotations

from crawler.demo.server import SiteServer
from tests.conftest import crawl

HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}

PARAGRAPH = (
    "قالت الهيئة العامة للأرصاد الجوية إن موجة من الأمطار الغزيرة ستضرب المناطق الشمالية خلال الأيام الثلاثة "
    "المقبلة، ودعت المواطنين إلى توخي الحذر وتجنب السفر غير الضروري على الطرق الجبلية، مؤكدة أن فرق الطوارئ "
    "في حالة تأهب كاملة للتعامل مع أي سيول محتملة في الأودية والمنخفضات."
)


WIND = (
    "ضربت رياح قوية محملة بالغبار العاصمة صباح اليوم، ما أدى إلى تعليق الرحلات في المطار الدولي لساعات وإغلاق "
    "المدارس في عدد من الأحياء، فيما أعلنت البلدية سقوط أشجار ولوحات إعلانية دون تسجيل إصابات بشرية حتى الآن، "
    "وتوقع خبراء أن تهدأ سرعة الرياح تدريجياً مع حلول المساء."
)


def _page(title: str, paragraph: str = PARAGRAPH) -> bytes:
    """An article with no date of its own: the sitemap or feed date is all there is."""
    body = f"<p>{title}: {paragraph}</p><p>{paragraph}</p>"
    return f'<html lang="ar"><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>'.encode()


def _routes() -> dict:
    news_sitemap = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{origin}/news/rain.html</loc>
    <news:news><news:publication><news:name>موقع</news:name><news:language>ar</news:language></news:publication>
      <news:publication_date>2025-06-01T08:30:00+03:00</news:publication_date>
      <news:title>أمطار غزيرة على المناطق الشمالية</news:title></news:news></url>
</urlset>"""
    index = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{origin}/sitemap-news.xml</loc></sitemap>
</sitemapindex>"""
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>موقع</title>
  <entry><title>رياح قوية</title><link href="{origin}/news/wind.html"/><published>2025-06-02T10:00:00Z</published></entry>
</feed>"""
    return {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\nSitemap: {origin}/sitemap-index.xml\n"),
        "/sitemap-index.xml": (200, XML, index.encode()),
        "/sitemap-news.xml": (200, XML, news_sitemap.encode()),
        "/": (200, HTML, '<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body>الرئيسية</body></html>'.encode()),
        "/atom.xml": (200, {"Content-Type": "application/atom+xml"}, atom.encode()),
        "/news/rain.html": (200, HTML, _page("أمطار غزيرة على المناطق الشمالية")),
        "/news/wind.html": (200, HTML, _page("رياح قوية", WIND)),
    }


def _templated(routes: dict, origin: str) -> dict:
    return {path: (status, headers, body.replace(b"{origin}", origin.encode())) for path, (status, headers, body) in routes.items()}


def test_sitemaps_from_robots_news_sitemaps_and_atom_feeds(tmp_path):
    with SiteServer(tmp_path) as server:
        server.httpd.RequestHandlerClass.extra_routes = _templated(_routes(), server.origin)
        source = tmp_path / "discovery.toml"
        source.write_text(
            f'name = "discovery"\nsite_url = "{server.origin}/"\nstart_urls = ["{server.origin}/"]\n'
            "article_allow = ['/news/']\nfollow_allow = ['/$']\nallow_loopback = true\n",
            encoding="utf-8",
        )
        run = crawl(str(source), tmp_path / "archive.db", server.origin)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {r["url"].rsplit("/", 1)[1]: r for r in run.db.query("SELECT url, title, published FROM articles")}
    assert set(rows) == {"rain.html", "wind.html"}
    # found through robots.txt → sitemap index → news sitemap, dated by news:publication_date
    assert rows["rain.html"]["published"] == "2025-06-01T08:30:00+03:00"
    # found through the Atom feed the home page links to, dated by the feed entry
    assert rows["wind.html"]["published"].startswith("2025-06-02")
    roles = {r["url"].rsplit("/", 1)[1]: r["role"] for r in run.db.query("SELECT url, role FROM pages")}
    assert roles["sitemap-index.xml"] == roles["sitemap-news.xml"] == "sitemap"
    assert roles["atom.xml"] == "feed"
