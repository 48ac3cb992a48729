"""The real Scrapy engine crawls the bundled demo site into a real SQLite archive."""

from __future__ import annotations

import sqlite3

from pipelines.text.normalize import normalize_arabic
from tests.conftest import crawl


def _articles_by_path(run) -> dict[str, dict]:
    rows = {}
    for row in run.db.query("SELECT * FROM articles"):
        path = "/" + row["url"].split("/", 3)[3]
        rows[path.split("?")[0]] = row
    return rows


def _stored(manifest):
    return [a for a in manifest["articles"] if a["expect"] == "stored"]


AGENCY_CREDITS = {"كونا"}  # the manifest's bylines that name a news agency


def test_every_article_stored_with_body_and_own_date(demo_crawl, manifest):
    rows = _articles_by_path(demo_crawl)
    for article in _stored(manifest):
        row = rows.get(article["path"])
        assert row is not None, f"{article['path']} not stored"
        for sentence in article["body_sentences"]:
            assert normalize_arabic(sentence) in normalize_arabic(row["text"]), (article["path"], sentence)
        assert row["published"] is not None, article["path"]
        assert row["published"].startswith(article["published"][:10]), (article["path"], row["published"])
        if "T" in article["published"]:
            assert row["published"][:16] == article["published"][:16], (article["path"], row["published"])
        assert normalize_arabic(row["title"]) == normalize_arabic(article["title"]), (article["path"], row["title"])
        if article.get("author"):
            # "المصدر: كونا" credits the Kuwait News Agency: the archive keeps it as the agency, not the author
            column = "agency" if article["author"] in AGENCY_CREDITS else "author"
            assert row[column] and normalize_arabic(article["author"]) in normalize_arabic(row[column]), article["path"]
        assert row["language"] == "ar"


def test_no_noise_in_any_body(demo_crawl, manifest):
    rows = list(demo_crawl.db.query("SELECT url, text FROM articles"))
    assert rows
    noise = {n for a in manifest["articles"] for n in a["noise"] if len(n.strip()) >= 4}
    assert len(noise) > 50, "the manifest should list tickers, comments, forms, related titles"
    for row in rows:
        leaked = [n for n in noise if n in row["text"]]
        assert not leaked, (row["url"], leaked[:5])


def test_other_languages_and_non_articles_are_not_stored(demo_crawl, manifest):
    rows = _articles_by_path(demo_crawl)
    for article in manifest["articles"]:
        if article["expect"] == "not_arabic":
            assert article["path"] not in rows, article["path"]
    for path in manifest["not_articles"]:
        assert path not in rows, path
    crawl_row = demo_crawl.last_crawl()
    assert crawl_row["not_arabic"] >= sum(1 for a in manifest["articles"] if a["expect"] == "not_arabic")
    assert crawl_row["not_article"] >= 1


def test_copies_are_stored_once(demo_crawl, manifest):
    rows = _articles_by_path(demo_crawl)
    for article in manifest["articles"]:
        if article["expect"] == "duplicate":
            assert article["path"] not in rows, article["path"]
            assert article["duplicate_of"] in rows
    urls = [r["url"] for r in demo_crawl.db.query("SELECT url FROM articles")]
    assert not [u for u in urls if "utm_" in u or "fbclid" in u]
    hashes = [r["content_hash"] for r in demo_crawl.db.query("SELECT content_hash FROM articles")]
    assert len(hashes) == len(set(hashes))
    assert len(rows) == len(_stored(manifest))
    duplicates = list(demo_crawl.db.query("SELECT d.url, a.url AS original FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"))
    dup_paths = {"/" + d["url"].split("/", 3)[3] for d in duplicates}
    for article in manifest["articles"]:
        if article["expect"] == "duplicate":
            assert article["path"] in dup_paths


def test_windows_1256_page_is_correct_arabic(demo_crawl, manifest):
    rows = _articles_by_path(demo_crawl)
    pages = [a for a in manifest["articles"] if a.get("encoding") == "windows-1256"]
    assert pages
    for article in pages:
        row = rows[article["path"]]
        assert row["encoding"] == "cp1256"
        assert normalize_arabic(article["body_sentences"][0]) in normalize_arabic(row["text"])
        assert "\ufffd" not in row["text"] and "Ø" not in row["text"]


def test_crawl_row_and_summary(demo_crawl, manifest):
    row = demo_crawl.last_crawl()
    assert row["status"] == "finished"
    assert row["stored"] == len(_stored(manifest))
    assert row["pages_fetched"] >= len(manifest["articles"])
    assert row["finished_at"] >= row["started_at"]
    assert row["stats"]["arshif/stored"] == row["stored"]
    assert f"{row['stored']} articles stored" in demo_crawl.stdout


def test_second_crawl_adds_no_rows(demo_site, demo_crawl, tmp_path):
    db_path = tmp_path / "archive.db"
    with sqlite3.connect(demo_crawl.db_path) as source, sqlite3.connect(db_path) as copy:
        source.backup(copy)
    before = demo_crawl.db
    counts = {t: before[t].count for t in ("articles", "duplicates")}
    crawls = before["crawls"].count
    again = crawl("demo", db_path, demo_site.origin)
    assert again.returncode == 0, again.stderr[-2000:]
    after = again.db
    assert {t: after[t].count for t in ("articles", "duplicates")} == counts
    assert after["crawls"].count == crawls + 1
    row = again.last_crawl()
    assert row["status"] == "finished" and row["stored"] == 0
    # nothing new: unchanged listings answer 304, archived articles are not downloaded again
    assert row["not_modified"] + row["skipped_archived"] > 0
