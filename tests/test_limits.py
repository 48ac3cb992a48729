"""Per-source limits from seeds/: max pages, max depth, only articles newer than a date."""

from __future__ import annotations

from crawler.sources import SEEDS_DIR
from tests.conftest import crawl


def _demo_source(tmp_path, limits: str):
    text = (SEEDS_DIR / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('name = "demo"', 'name = "demo-limited"')
    text = text[: text.index("[limits]")] + "[limits]\n" + limits
    path = tmp_path / "demo-limited.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_newer_than_keeps_only_recent_articles(tmp_path, demo_site, manifest):
    source = _demo_source(tmp_path, 'newer_than = "2025-03-15"\n')
    run = crawl(str(source), tmp_path / "archive.db", demo_site.origin)
    assert run.returncode == 0, run.stderr[-2000:]
    dates = [r["published"] for r in run.db.query("SELECT published FROM articles")]
    assert dates and all(d[:10] >= "2025-03-15" for d in dates)
    expected_old = [a for a in manifest["articles"] if a["expect"] != "not_arabic" and a["published"][:10] < "2025-03-15"]
    assert run.last_crawl()["too_old"] >= len(expected_old) - 1  # the wire copy may count as a duplicate first


def test_max_pages_stops_the_crawl(tmp_path, demo_site, demo_crawl):
    source = _demo_source(tmp_path, "max_pages = 5\n")
    run = crawl(str(source), tmp_path / "archive.db", demo_site.origin)
    row = run.last_crawl()
    assert row["stats"]["finish_reason"] == "closespider_pagecount"
    # requests already in flight when the limit is reached still finish
    assert row["pages_fetched"] < demo_crawl.last_crawl()["pages_fetched"]


def test_max_depth_limits_link_following(tmp_path, demo_site):
    source = _demo_source(tmp_path, "max_depth = 1\n").read_text(encoding="utf-8")
    source = source.replace('sitemaps = ["http://127.0.0.1:8642/sitemap.xml"]\n', "").replace(
        'feeds = ["http://127.0.0.1:8642/feed.rss"]\n', "") + "\n"
    path = tmp_path / "shallow.toml"
    path.write_text(source.replace("allow_loopback = true", "allow_loopback = true\ndiscover_sitemaps = false"), encoding="utf-8")
    shallow = crawl(str(path), tmp_path / "shallow.db", demo_site.origin)
    deep = crawl("demo", tmp_path / "deep.db", demo_site.origin)
    assert shallow.last_crawl()["stats"].get("request_depth_max", 0) <= 1
    assert shallow.last_crawl()["pages_fetched"] < deep.last_crawl()["pages_fetched"]
