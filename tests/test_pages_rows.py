"""`pages` rows stay complete in crawls larger than one batch (issue 18, item 1).

An article's outcome often reaches the storage pipeline in a later batch than its
page row (the response arrives, the batch is written, then extraction finishes):
the outcome must be added to the row, not written over it with NULLs.
"""

from __future__ import annotations

import sqlite3

from bench.throughput.generate import generate
from crawler.demo.server import SiteServer
from pipelines.archive.database import insert_rows, open_archive
from tests.conftest import crawl

PAGE_COLUMNS = ("role", "status", "source", "fetched_at", "crawl_id", "etag", "last_modified", "warc_file", "warc_offset")


def test_an_outcome_in_a_later_batch_keeps_the_page_row(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    full = {"url": "https://x.example/a.html", "source": "x", "role": "article", "status": 200, "etag": '"e"',
            "last_modified": "Mon, 01 Dec 2025 10:00:00 GMT", "fetched_at": "2025-12-01T10:00:00+00:00",
            "crawl_id": 1, "warc_file": "a.warc.gz", "warc_offset": 0, "warc_length": 10}
    insert_rows(db, [], [], [], [full])
    # the next batch: this page's outcome, beside another page's full row (the batch's shape)
    other = {**full, "url": "https://x.example/b.html"}
    insert_rows(db, [], [], [], [other, {"url": full["url"], "outcome": "stored"}])
    row = db["pages"].get(full["url"])
    assert row["outcome"] == "stored"
    assert {key: row[key] for key in full} == full
    db.close()


def test_every_article_page_row_is_complete_after_a_crawl_of_many_batches(tmp_path):
    site = tmp_path / "site"
    generate(240, site)
    db_path = tmp_path / "archive.db"
    with SiteServer(site) as server:
        run = crawl(str(site / "bench.toml"), db_path, server.origin, "-s", "ARSHIF_BATCH_SIZE=7")
    assert run.returncode == 0, run.stderr[-2000:]
    with sqlite3.connect(db_path) as connection:
        total, outcomes, *blank = connection.execute(
            "SELECT COUNT(*), COUNT(outcome), " + ", ".join(f"SUM({c} IS NULL)" for c in PAGE_COLUMNS[:5] + ("warc_file",))
            + " FROM pages WHERE role = 'article'"
        ).fetchone()
        stored = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert total >= 240 and stored > 7 * 10  # many batches
    assert outcomes == total
    assert blank == [0] * len(blank), dict(zip(PAGE_COLUMNS[:5] + ("warc_file",), blank))
