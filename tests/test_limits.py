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


def test_max_pages_ends_the_run_as_finished_without_overshoot(tmp_path, demo_site, demo_crawl):
    source = _demo_source(tmp_path, "max_pages = 5\n")
    run = crawl(str(source), tmp_path / "archive.db", demo_site.origin)
    assert run.returncode == 0, run.stderr[-2000:]  # a normal run: cron must not mail
    row = run.last_crawl()
    assert row["status"] == "finished" and row["limit_reached"] == 1
    assert row["stats"]["finish_reason"] == "finished"
    assert "page limit reached" in run.stdout
    robots = row["stats"].get("robotstxt/response_count", 0)
    assert row["pages_fetched"] - robots <= 5  # nothing past the limit, not even what was queued or in flight
    assert row["stats"]["arshif/limit_skipped"] >= 1
    assert row["pages_fetched"] < demo_crawl.last_crawl()["pages_fetched"]
    # the next runs go on where the last stopped: listings are read again (not ended by a 304, as their
    # links were not all followed), archived articles are skipped and do not count, so new ones are stored.
    # One request at a time: which 5 pages a run gets must not depend on download timing.
    one_at_a_time = ("-s", "CONCURRENT_REQUESTS=1")
    counts = []
    for _ in range(3):
        again = crawl(str(source), tmp_path / "serial.db", demo_site.origin, *one_at_a_time)
        assert again.returncode == 0, again.stderr[-2000:]
        last = again.last_crawl()
        assert last["status"] == "finished" and last["limit_reached"] == 1
        assert last["pages_fetched"] - last["stats"].get("robotstxt/response_count", 0) <= 5
        counts.append(again.db["articles"].count)
    assert 0 < counts[0] < counts[1] < counts[2], counts
    # Known limit (issue 20's frontier): listings are re-read first in every run, so a max_pages smaller
    # than the site's listings never reaches articles linked only from deeper listings.


def test_a_run_under_its_limit_has_no_flag(demo_crawl):
    assert not demo_crawl.last_crawl()["limit_reached"]


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
