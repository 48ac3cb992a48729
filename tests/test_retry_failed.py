"""Pages that yielded no article because of the configuration or the code are fetched again
when either changes, or with --retry-failed; archived articles never (issue 18, item 8)."""

from __future__ import annotations

from crawler.middlewares import IncrementalMiddleware
from pipelines.extraction.version import EXTRACTION_VERSION
from tests.conftest import crawl
from tests.test_limits import _demo_source


def _page(outcome, digest="d1", version=EXTRACTION_VERSION):
    return {"outcome": outcome, "source_digest": digest, "extraction_version": version}


def test_which_outcomes_are_retried():
    middleware = IncrementalMiddleware(crawler=None, db_path="", refresh=False)
    for outcome in ("extraction_failed", "not_article", "too_old"):
        assert not middleware._retry(_page(outcome), "d1")
        assert middleware._retry(_page(outcome), "d2")  # the source file changed
        assert middleware._retry(_page(outcome, version=EXTRACTION_VERSION - 1), "d1")  # the extraction code changed
        assert middleware._retry(_page(outcome, digest=None, version=None), "d1")  # recorded before either was kept
    for outcome in ("stored", "duplicate", "already_archived", "not_arabic"):
        assert not middleware._retry(_page(outcome, "d0", 0), "d1")
    middleware.retry_failed = True
    assert middleware._retry(_page("not_article"), "d1") and not middleware._retry(_page("stored"), "d1")


def test_a_fixed_source_file_brings_back_the_pages_it_lost(tmp_path, demo_site, demo_crawl):
    db_path = tmp_path / "archive.db"
    source = _demo_source(tmp_path, 'newer_than = "2025-03-15"\nmax_depth = 4\n')  # a too strict date
    first = crawl(str(source), db_path, demo_site.origin)
    assert first.returncode == 0, first.stderr[-2000:]
    too_old, stored = first.last_crawl()["too_old"], first.db["articles"].count
    assert too_old >= 3
    same = crawl(str(source), db_path, demo_site.origin)  # nothing changed: nothing fetched again
    assert same.last_crawl()["too_old"] == 0 and same.db["articles"].count == stored
    source.write_text(source.read_text(encoding="utf-8").replace("2025-03-15", "2020-01-01"), encoding="utf-8")
    fixed = crawl(str(source), db_path, demo_site.origin)
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    row = fixed.last_crawl()
    assert row["too_old"] == 0 and fixed.db["articles"].count == demo_crawl.db["articles"].count  # all of them now
    assert row["stats"]["arshif/retry_candidates"] >= too_old
    assert row["skipped_archived"] >= stored  # stored articles are never fetched again
    stored = fixed.db["articles"].count
    again = crawl(str(source), db_path, demo_site.origin, "--retry-failed")  # the not_article page only
    stats = again.last_crawl()["stats"]
    assert again.returncode == 0 and stats["arshif/retry_candidates"] == 1
    assert again.last_crawl()["not_article"] == 1 and again.db["articles"].count == stored
