"""A crawl reads the archive per URL (indexed look-ups), not in full: the same decisions as when it loaded everything.

Real SQLite archives built through the project's schema (bench/archive_size/build.py,
the rows the pipelines write), the real IncrementalMiddleware on a Scrapy crawler,
and DedupPipeline's look-ups checked against the former full load (`_former_keys`,
kept here as the reference) on every URL, key and hash of the archive.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from bench.archive_size.build import build
from crawler.middlewares import RETRYABLE_OUTCOMES, IncrementalMiddleware
from pipelines.archive.database import open_archive
from pipelines.archive.request_meta import ROLE
from pipelines.dedup import ArchivedKeys
from pipelines.similarity.urls import fold_url

ARTICLES = 3_000  # more than the build's batch size (BATCH is lowered below) and the look-up cache
CACHE = 100


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    import bench.archive_size.build as builder

    path = tmp_path_factory.mktemp("archive-size") / "archive.db"
    batch, builder.BATCH = builder.BATCH, 700
    try:
        build(path, ARTICLES)
    finally:
        builder.BATCH = batch
    db = open_archive(path)
    with db.conn:
        # edge cases the synthetic rows lack: a URL in both tables, a www. host, a retryable outcome, an alias sharing a hash
        db.execute("INSERT INTO duplicates (url, canonical_url, duplicate_of, kind) VALUES (?, ?, 7, 'url')",
                   ["https://site5.example/news/5.html", "https://www.site5.example/news/5.html"])
        db.execute("INSERT INTO crawls (id, source, status, source_digest, extraction_version) VALUES (9001, 'x', 'finished', 'old', 1)")
        db.execute("INSERT INTO pages (url, role, status, outcome, crawl_id) VALUES ('https://site1.example/x.html', 'article', 200,"
                   " 'extraction_failed', 9001)")
        db.execute("INSERT INTO pages (url, role, status, outcome, crawl_id) VALUES ('https://site1.example/y.html', 'article', 200,"
                   " 'not_arabic', 9001)")
        db.execute("UPDATE articles SET content_hash = (SELECT content_hash FROM articles WHERE id = 40) WHERE id = 41")
        _add_variants(db)
    db.close()
    return path


def _add_variants(db) -> None:
    """Host and AMP variants (www., m., amp., /amp, .amp, ?amp=1), as articles' URLs and canonical URLs and as
    duplicates' canonical URLs, several folding to one key, so url_fold_keys has rows and checks them."""
    with db.conn:
        for i, (url, canonical) in enumerate([
            ("https://www.v.example/a.html", "https://www.v.example/a.html"),
            ("https://m.v.example/a.html", None),
            ("https://v.example/amp/a.html", "https://amp.v.example/a.html"),
            ("https://www.m.v.example/b.amp.html", "https://www.m.v.example/b.amp.html"),
            ("https://v.example/b.html?amp=1", "https://v.example/b.html"),
            ("https://mobile.v.example/c/amp", "https://v.example/c?outputType=amp"),
        ]):
            db.execute("INSERT INTO articles (id, url, canonical_url) VALUES (?, ?, ?)", [ARTICLES + 100 + i, url, canonical])
        for i, canonical in enumerate(["https://www.w.example/d.html", "https://amp.w.example/d.html",
                                       "https://w.example/amp/e.html", "https://m.www.w.example/e.html"]):
            db.execute("INSERT INTO duplicates (url, canonical_url, duplicate_of, kind) VALUES (?, ?, ?, 'url')",
                       [f"https://w.example/alias-{i}", canonical, 20 + i])


def test_the_bulk_build_leaves_a_migrated_archives_schema_and_every_row_a_crawl_looks_up(tmp_path, monkeypatch):
    """More articles than every batch of the build (articles, FTS, band rows): indexes and the FTS trigger
    dropped for the load are back as the migrations made them, and each table has the rows it should."""
    import bench.archive_size.build as builder

    for name, size in (("BATCH", 400), ("FTS_BATCH", 700), ("BAND_BATCH", 9_000)):
        monkeypatch.setattr(builder, name, size)
    path, articles = tmp_path / "bulk.db", 1_500
    build(path, articles)
    db = open_archive(path)
    fresh = open_archive(tmp_path / "fresh.db")
    from pipelines.similarity.near_duplicates import BANDS, open_index

    open_index(fresh).close()
    assert builder.schema(db) == builder.schema(fresh)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    count = lambda sql: db.execute(sql).fetchone()[0]
    assert count("SELECT COUNT(*) FROM articles") == articles
    assert count("SELECT COUNT(*) FROM duplicates") == articles // 10
    assert count("SELECT COUNT(*) FROM pages WHERE role = 'article'") == articles + articles // 10
    assert count("SELECT COUNT(*) FROM pages WHERE role = 'listing'") == articles // 100
    # every article's URL, its alias and its listing are in `pages` under the URL the crawl asks for
    assert count("SELECT COUNT(*) FROM articles a JOIN pages p ON p.url = a.url AND p.outcome = 'stored'") == articles
    assert count("SELECT COUNT(*) FROM duplicates d JOIN pages p ON p.url = d.url AND p.outcome = 'duplicate'") == articles // 10
    assert count("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'خبر'") == articles
    assert count("SELECT SUM(articles) FROM article_counts") == articles
    assert count("SELECT COUNT(*) FROM near_duplicate_signatures") == articles
    per_article = db.execute("SELECT MIN(n), MAX(n), COUNT(*) FROM (SELECT COUNT(*) AS n FROM near_duplicate_bands"
                             " GROUP BY article_id)").fetchone()
    assert per_article == (BANDS, BANDS, articles)
    assert count("SELECT COUNT(DISTINCT band_key) FROM near_duplicate_bands") == articles * BANDS
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the FTS trigger is back: an article inserted now is searchable
    db.execute("INSERT INTO articles (id, url, title, text) VALUES (?, 'https://x.example/n', 'عنوان', 'كلمة فريدة')",
               [articles + 1])
    assert count("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH arshif_fts_query('فريدة')") == 1
    db.close()
    fresh.close()
    with pytest.raises(SystemExit, match="exists"):
        build(path, articles)  # no resume over a file written with the journal off


def _middleware(path, **settings):
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(path), "ARSHIF_LOOKUP_CACHE": CACHE, **settings})
    crawler.stats.open_spider()
    middleware = IncrementalMiddleware.from_crawler(crawler)
    spider = scrapy.Spider("t")
    spider.source = SimpleNamespace(digest="synthetic")  # the source file the synthetic crawls ran under
    middleware.spider_opened(spider)
    return middleware


def _skipped(middleware, url: str) -> bool:
    try:
        middleware.process_request(scrapy.Request(url, meta={ROLE: "article"}))
    except IgnoreRequest:
        return True
    return False


def test_the_middleware_decides_each_url_from_the_archive_and_holds_only_a_bounded_cache(archive):
    middleware = _middleware(archive)
    assert len(middleware.pages) == len(middleware.archived) == 0  # nothing read at open
    db = open_archive(archive)
    archived = [row[0] for row in db.execute("SELECT url FROM articles UNION SELECT url FROM duplicates")]
    db.close()
    assert len(archived) > 3 * CACHE
    for url in archived:
        assert _skipped(middleware, url), url
    for n in range(3 * CACHE):
        assert not _skipped(middleware, f"https://site1.example/new/{n}.html")
    assert len(middleware.archived) <= CACHE and len(middleware.pages) <= CACHE
    # a page whose outcome a fix may change is fetched again (its run's source digest differs); one that stands is not
    assert not _skipped(middleware, "https://site1.example/x.html")
    assert _skipped(middleware, "https://site1.example/y.html")
    assert middleware.crawler.stats.get_value("arshif/retry_candidates") == 1
    middleware.spider_closed(None)


def test_a_listing_gets_the_validators_it_had_when_first_asked_even_after_its_row_changes(archive, tmp_path):
    import shutil

    path = shutil.copy(archive, tmp_path / "copy.db")
    middleware = _middleware(path)
    listing = "https://site0.example/section/1"
    request = scrapy.Request(listing)
    middleware.process_request(request)
    assert request.headers.get("If-None-Match") == b'"l100"'
    db = open_archive(path)
    with db.conn:  # this run rewrites the row once the page is fetched (a running crawl: not complete)
        db.execute("UPDATE pages SET etag = 'new', crawl_id = NULL WHERE url = ?", [listing])
    db.close()
    again = scrapy.Request(listing)
    middleware.process_request(again)
    assert again.headers.get("If-None-Match") == b'"l100"'
    middleware.spider_closed(None)


def _former_keys(db, fold):
    """The former DedupPipeline start-up: every archived URL, key and hash read into memory."""
    fetched, keys, hashes = {}, {}, {}
    for article_id, url, canonical, digest in db.execute("SELECT id, url, canonical_url, content_hash FROM articles"):
        fetched[url] = article_id
        for key in (canonical, url) if canonical else (url,):
            keys.setdefault(fold_url(key, fold) if fold else key, article_id)
        if digest:
            hashes.setdefault(digest, article_id)
    for url, canonical, article_id in db.execute("SELECT url, canonical_url, duplicate_of FROM duplicates"):
        fetched[url] = article_id
        if canonical:
            keys.setdefault(fold_url(canonical, fold) if fold else canonical, article_id)
    return fetched, keys, hashes


FOLDS_TRIED = [frozenset(), frozenset({"www"}), frozenset({"amp"}), frozenset({"mobile", "amp"}),
               frozenset({"www", "mobile", "amp"})]


@pytest.mark.parametrize("fold", FOLDS_TRIED)
def test_dedup_lookups_give_what_the_former_full_load_gave(archive, fold):
    db = open_archive(archive)
    next_id = db.execute("SELECT MAX(id) + 1 FROM articles").fetchone()[0]
    fetched, keys, hashes = _former_keys(db, fold)
    lookups = ArchivedKeys(db, fold, next_id)
    assert fetched and all(lookups.fetched(url) == article for url, article in fetched.items())
    assert all(lookups.key(key) == article for key, article in keys.items())
    if fold:  # keys of this fold (what dedup asks) made from other folds' keys, that the map did not have: not found
        others = {fold_url(fold_url(url, other), fold) for url in fetched for other in FOLDS_TRIED} - set(keys)
        assert others and all(lookups.key(key) is None for key in others)
    assert all(lookups.content(digest) == article for digest, article in hashes.items())
    assert lookups.fetched("https://site5.example/news/5.html") == 7  # the duplicates row wins, as before
    shared = db.execute("SELECT content_hash FROM articles WHERE id = 41").fetchone()[0]
    assert lookups.content(shared) == 40  # the first article with the hash
    for missing in ("https://site1.example/none.html", "https://nowhere.example/"):
        assert lookups.fetched(missing) is None and lookups.key(missing) is None
    # rows written after the run opened are this run's own (the pipeline's dicts hold them): not read here
    with db.conn:
        db.execute("INSERT INTO articles (id, url, canonical_url, content_hash) VALUES (?, 'https://late.example/a', "
                   "'https://late.example/a', 'late')", [next_id])
        db.execute("INSERT INTO duplicates (url, canonical_url, duplicate_of, kind) VALUES ('https://late.example/b',"
                   " 'https://late.example/c', 1, 'url')")
    try:
        assert lookups.fetched("https://late.example/a") is None and lookups.content("late") is None
        if not fold:
            assert lookups.key("https://late.example/a") is None and lookups.key("https://late.example/c") is None
    finally:
        with db.conn:
            db.execute("DELETE FROM articles WHERE id = ?", [next_id])
            db.execute("DELETE FROM duplicates WHERE url = 'https://late.example/b'")
        db.close()


def test_a_url_fold_source_reads_nothing_at_open(archive):
    """The former start-up of a url_fold source read every archived URL; now only the duplicates' last id."""
    db = open_archive(archive)
    statements = []
    db.conn.set_trace_callback(statements.append)
    ArchivedKeys(db, frozenset({"www", "mobile", "amp"}), 10**9)
    db.conn.set_trace_callback(None)
    assert statements == ["SELECT COALESCE(MAX(id), 0) FROM duplicates"]
    db.close()


def test_the_migration_fills_url_fold_keys_of_an_archive_made_before_it(archive, tmp_path):
    """An archive written before m120 (no table, no triggers): the migration finds every variant, so the look-ups
    give the former full load's answers, and rows written afterwards are kept by the triggers."""
    import shutil

    path = tmp_path / "old.db"
    source = open_archive(archive)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.close()
    shutil.copy(archive, path)
    db = open_archive(path)
    with db.conn:
        for name in ("url_fold_keys_article_insert", "url_fold_keys_article_update", "url_fold_keys_duplicate_insert",
                     "url_fold_keys_duplicate_update"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE url_fold_keys")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm120_url_fold_keys'")
    db.close()
    db = open_archive(path)
    assert db.execute("SELECT COUNT(*) FROM url_fold_keys").fetchone()[0] > 0
    fold = frozenset({"www", "mobile", "amp"})
    next_id = db.execute("SELECT MAX(id) + 1 FROM articles").fetchone()[0]
    _, keys, _ = _former_keys(db, fold)
    lookups = ArchivedKeys(db, fold, next_id)
    assert all(lookups.key(key) == article for key, article in keys.items())
    with db.conn:  # a later article under a www. host, and an article whose canonical URL changes to an AMP one
        db.execute("INSERT INTO articles (id, url, canonical_url) VALUES (?, 'https://www.late.example/x',"
                   " 'https://www.late.example/x')", [next_id])
        db.execute("UPDATE articles SET canonical_url = 'https://amp.site3.example/news/3.html' WHERE id = 3")
    lookups = ArchivedKeys(db, fold, next_id + 1)
    assert lookups.key("https://late.example/x") == next_id
    assert lookups.key("https://site3.example/news/3.html") == 3
    _, keys, _ = _former_keys(db, fold)
    assert all(lookups.key(key) == article for key, article in keys.items())
    db.close()


def test_lookups_use_indexes(archive):
    """m070 and the first migration's indexes serve every look-up: no full scan of a table that grows with the archive."""
    db = open_archive(archive)
    outcomes = ", ".join(f"'{o}'" for o in RETRYABLE_OUTCOMES)
    queries = [
        ("SELECT MIN(id) FROM articles WHERE (canonical_url = ? OR url = ?) AND id < ?", 3),
        ("SELECT duplicate_of FROM duplicates WHERE canonical_url = ? AND id <= ? ORDER BY id LIMIT 1", 2),
        ("SELECT MIN(id) FROM articles WHERE content_hash = ? AND id < ?", 2),
        ("SELECT duplicate_of FROM duplicates WHERE url = ? AND id <= ?", 2),
        ("SELECT id FROM articles WHERE url = ? AND id < ?", 2),
        (f"SELECT COUNT(*) FROM pages p LEFT JOIN crawls c ON c.id = p.crawl_id WHERE p.outcome IN ({outcomes})", 0),
        ("SELECT p.status FROM pages p LEFT JOIN crawls c ON c.id = p.crawl_id WHERE p.url = ?", 1),
        ("UPDATE crawls SET status = 'killed' WHERE status = 'running' AND source = ?", 1),
        ("SELECT DISTINCT article_id FROM near_duplicate_bands WHERE band_key IN (?, ?)", 2),
        ("SELECT article_id, signature FROM near_duplicate_signatures WHERE article_id IN (?, ?)", 2),
        (("SELECT a.id, a.url, a.canonical_url FROM url_fold_keys f JOIN articles a ON a.id = f.row_id"
          " WHERE f.key = ? AND f.kind = 0 AND f.row_id < ?"), 2),
        (("SELECT d.id, d.duplicate_of, d.canonical_url FROM url_fold_keys f JOIN duplicates d ON d.id = f.row_id"
          " WHERE f.key = ? AND f.kind = 1 AND f.row_id <= ?"), 2),
    ]
    for sql, params in queries:
        plan = " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, [1] * params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)
    db.close()
