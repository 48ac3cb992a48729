"""Hostile web, safe archive: a crawl over a faulty site finishes and counts every fault."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from crawler.demo.server import SiteServer
from tests.conftest import crawl
from tests.fault_site import BOMB_MB, FAULTS, GOOD, GZIPPED, OUTCOMES, SOURCE_TOML, UNSAFE_LINKS, fault_routes


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    with SiteServer(extra_routes=fault_routes()) as server:  # the demo site, with faults on top
        source = folder / "faults.toml"
        source.write_text(SOURCE_TOML.format(origin=server.origin), encoding="utf-8")
        run = crawl(str(source), folder / "archive.db", server.origin,
                    "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=2", "--log-level", "INFO")
    run.origin = server.origin
    return run


def test_the_fault_crawl_finishes_and_stores_the_good_pages(fault_crawl):
    assert fault_crawl.returncode == 0, fault_crawl.stderr[-3000:]
    row = fault_crawl.last_crawl()
    assert row["status"] == "finished"
    stored = {r["url"].split("/", 3)[3] for r in fault_crawl.db.query("SELECT url FROM articles")}
    stored |= {r["url"].split("/", 3)[3] for r in fault_crawl.db.query("SELECT url FROM duplicates")}
    for number in GOOD:
        assert f"articles/{number}.html" in stored
    for path, outcome in OUTCOMES.items():
        if outcome == "stored":
            assert path.lstrip("/") in stored, path


def test_each_fault_is_counted_under_its_own_reason(fault_crawl):
    row = fault_crawl.last_crawl()
    faults = json.loads(row["faults"])
    for path, reason in FAULTS.items():
        assert faults.get(reason, 0) >= 1, (path, reason, faults)
    assert row["http_error"] == sum(faults.values())
    stats = row["stats"]
    assert stats["arshif/extraction_failed"] >= 2  # binary and empty
    assert stats["arshif/not_article"] >= 1  # the page whose layout changed
    # each fault logged once with its URL
    for path, reason in FAULTS.items():
        if reason != "unsafe_address":
            lines = [l for l in fault_crawl.stderr.splitlines() if f"Failed ({reason}): {fault_crawl.origin}{path}" in l]
            assert len(lines) == 1, (path, reason, lines)


def test_retries_are_bounded_and_retry_after_honoured(fault_crawl):
    stats = fault_crawl.last_crawl()["stats"]
    assert stats["retry/max_reached"] >= 1  # the timeout gave up after RETRY_TIMES
    assert stats["retry/count"] <= 3 * len(FAULTS) + 10
    assert stats.get("arshif/retry_after_waits", 0) >= 1


def test_unsafe_addresses_are_refused_without_a_connection(fault_crawl):
    stats = fault_crawl.last_crawl()["stats"]
    requested = [r["url"] for r in fault_crawl.db.query("SELECT url FROM pages")]
    for unsafe in UNSAFE_LINKS:
        assert unsafe not in requested
    assert "169.254.169.254" not in json.dumps(stats.get("downloader/response_count", ""))
    assert "169.254.169.254" not in fault_crawl.stderr.replace("Filtered offsite request to '169.254.169.254'", "")
    assert stats["offsite/filtered"] >= 1


def test_loopback_is_refused_unless_the_source_allows_it(tmp_path, demo_site):
    source = tmp_path / "strict.toml"
    source.write_text(
        SOURCE_TOML.replace('"faults"', '"strict"').replace("allow_loopback = true", "allow_loopback = false")
        .format(origin=demo_site.origin), encoding="utf-8")
    run = crawl(str(source), tmp_path / "archive.db", demo_site.origin)
    assert run.returncode == 2
    faults = json.loads(run.last_crawl()["faults"])
    assert faults == {"unsafe_address": 1}
    assert run.last_crawl()["pages_fetched"] == 0


@pytest.mark.parametrize(
    "host, problem",
    [
        ("169.254.169.254", "link-local"),
        ("10.11.12.13", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("0.0.0.0", "loopback"),
        ("8.8.8.8", None),
    ],
)
def test_address_classification(host, problem):
    from crawler.middlewares import _address_problem

    assert _address_problem(host) == problem


def test_size_limits_keep_memory_bounded(fault_crawl):
    # the 400 MB gzip bomb and the 50 MB page are stopped at DOWNLOAD_MAXSIZE (10 MB)
    peak_mb = int(re.search(r"peak RSS (\d+) MB", fault_crawl.stdout).group(1))
    assert peak_mb < BOMB_MB - 50, peak_mb


def _stored_text(db, path: str) -> str:
    """The text archived for a page: its own row, or the article it was found to copy."""
    query = (
        "SELECT text FROM articles WHERE url LIKE :p UNION ALL "
        "SELECT a.text FROM duplicates d JOIN articles a ON a.id = d.duplicate_of WHERE d.url LIKE :p"
    )
    rows = list(db.query(query, {"p": f"%{path}"}))
    assert len(rows) == 1, path
    return rows[0]["text"]


def test_broken_and_mislabelled_pages_are_stored_as_correct_arabic(fault_crawl):
    # both reuse a demo article's text, which the crawl also meets at its own URL: either copy may be kept
    broken = _stored_text(fault_crawl.db, "/articles/broken.html")
    assert "\x00" not in broken and len(broken) > 200
    assert "الكلى" in _stored_text(fault_crawl.db, "/articles/wrongcharset.html")
    encodings = {r["encoding"] for r in fault_crawl.db.query("SELECT encoding FROM articles WHERE url LIKE '%wrongcharset%'")}
    assert encodings <= {"cp1256"}


def test_a_source_whose_articles_all_fail_is_reported(tmp_path):
    page = "<html lang='ar'><body><div class='x'><a href='/'>الرئيسية</a> <p>قريباً</p></div></body></html>".encode()
    routes = {"/": (200, {"Content-Type": "text/html"},
                    "".join(f"<a href='/articles/{i}.html'>خبر</a>" for i in range(8)).encode())}
    routes.update({f"/articles/{i}.html": (200, {"Content-Type": "text/html"}, page) for i in range(8)})
    with SiteServer(tmp_path, extra_routes=routes) as server:
        source = tmp_path / "broken.toml"
        source.write_text(SOURCE_TOML.replace('"faults"', '"broken"').format(origin=server.origin), encoding="utf-8")
        run = crawl(str(source), tmp_path / "archive.db", server.origin)
    assert run.returncode == 2  # cron mails it
    assert "source broken" in run.stderr and "8 of 8 article pages (100%)" in run.stderr
    assert "yielded no article at all" in run.stderr
    assert run.last_crawl()["warning"].startswith("source broken")


def test_a_compressed_page_is_archived_as_it_came_over_the_wire(fault_crawl):
    """The WARC record keeps the gzip bytes and the header that says so, whichever thread or
    process built it; extraction got the decompressed page."""
    from pipelines.archive.warc import iter_responses

    url = f"{fault_crawl.origin}/articles/gzipped.html"
    records = [r for r in iter_responses(fault_crawl.db_path.parent / "warc") if r.url == url]
    assert len(records) == 1
    record = records[0].ref
    with open(fault_crawl.db_path.parent / "warc" / record.file, "rb") as stream:
        stream.seek(record.offset)
        raw = gzip.decompress(stream.read(record.length))
    assert raw.endswith(b"\r\n\r\n" + GZIPPED + b"\r\n\r\n") and b"Content-Encoding: gzip" in raw
    assert records[0].body == gzip.decompress(GZIPPED)
    # the decompressed page is article 1014's text: the copy with the smaller URL, /articles/1014.html, is the article
    assert _stored_text(fault_crawl.db, "/articles/gzipped.html") == _stored_text(fault_crawl.db, "/articles/1014.html")
    assert fault_crawl.db.execute("SELECT kind FROM duplicates WHERE url = ?", [url]).fetchone() == ("exact",)
