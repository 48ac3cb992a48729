"""Build a synthetic archive of N articles through the project's own schema, as the pipelines leave it.

    nice -n 5 python -m bench.archive_size.build --articles 10000000

`open_archive` (every migration) and the near-duplicate index's own migrations
(`open_index`), then rows shaped like the pipelines': one `crawls` row per 10,000
articles (finished, with source digest and extraction version), `articles` over
50 sources (short texts: ~12 words, so 10 M fit the disk), one `duplicates` row
per 10 articles (a tracking-parameter alias, kind `url`), one `pages` row per
article and per duplicate (role `article`, outcome `stored`/`duplicate`, with
ETag and WARC fields) plus one listing page per 100 articles, the full-text
index, and the near-duplicate index: a 128-value signature, shingle hashes and
32 LSH band rows per article. Signatures and band keys are random (what hashes
of distinct texts look like): MinHash of 10 M texts would take hours and
changes nothing in what a look-up reads.

A bulk load, because inserting at random into big B-trees made the row-by-row
build slow down to ~200 articles/s (1 M took 77 minutes): the secondary indexes
of articles, duplicates and pages and the FTS insert trigger are dropped, rows
are appended in key order (articles by id; pages one site at a time in URL
order; band rows in key order, their (article, band) pairs permuted), then
every index and the trigger are re-created with the schema's own statements and
the FTS index filled with the trigger's own expression. The result is checked:
its sqlite_master equals a freshly migrated archive's, and its sqlite_stat1 is
restored to the migrations' (so the planner sees what a crawl-grown archive
has). With journal_mode OFF and synchronous OFF: a killed build leaves a file
to delete, not to resume (it refuses an existing file). It stops before free
space on the disk falls below 15 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines.archive.database import open_archive
from pipelines.extraction.version import EXTRACTION_VERSION
from pipelines.similarity.near_duplicates import BANDS, NUM_PERM, open_index

DATA = Path(__file__).resolve().parent / ".data"
BATCH = 20_000
FTS_BATCH = 500_000
BAND_BATCH = 10_000_000
KEEP_FREE = 15 * 10**9  # the shared disk's floor for other work
RNG_BASE = 12345
PER_CRAWL = 10_000
SOURCES = 50
WORDS = ("الحكومة", "وزير", "الخارجية", "مؤتمر", "صحفي", "اليوم", "العاصمة", "مجلس", "النواب", "قرار", "الاقتصاد",
         "الأسواق", "النفط", "الرئيس", "اجتماع", "المدينة", "الأمم", "المتحدة", "اتفاق", "المفاوضات")


def article_row(i: int, crawl_id: int) -> tuple:
    site = f"https://site{i % SOURCES}.example"
    url = f"{site}/news/{i}.html"
    words = [WORDS[(i * 7 + k * (i % 13 + 1)) % len(WORDS)] for k in range(10)] + [str(i), "خبر"]
    text = " ".join(words)
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    published = f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00"
    return (i, url, url, f"source{i % SOURCES}", f"خبر رقم {i}", None, published, None, f"الموقع {i % SOURCES}",
            published, "ar", 0.99, text, len(words), digest, "utf-8", crawl_id, f"crawl-{crawl_id}.warc.gz",
            1000 + i, 5000, i, None, None)


ARTICLE_SQL = (
    "INSERT INTO articles (id, url, canonical_url, source, title, author, published, description, site_name,"
    " fetched_at, language, language_prob, text, word_count, content_hash, encoding, crawl_id, warc_file,"
    " warc_offset, warc_length, story_id, story_match, story_similarity) VALUES (" + ",".join("?" * 23) + ")"
)
PAGE_SQL = (
    "INSERT OR IGNORE INTO pages (url, source, role, status, etag, last_modified, digest, warc_date, fetched_at,"
    " outcome, warc_file, warc_offset, warc_length, crawl_id) VALUES (" + ",".join("?" * 14) + ")"
)


BULK_TABLES = ("articles", "duplicates", "pages")
P = 2654435761  # a prime: j → j·P mod M permutes the band rows' (article, band) pairs


def schema(db) -> set[tuple]:
    """sqlite_master as a set (what a crawl's migrations compare and its queries plan against)."""
    return set(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())


def check_disk(path: Path) -> None:
    free = shutil.disk_usage(path.parent).free
    if free < KEEP_FREE:
        raise SystemExit(f"stopped: {free / 1e9:.1f} GB free on {path.parent}, below the {KEEP_FREE / 1e9:.0f} GB kept for others")


def phase(name: str, started: float) -> float:
    now = time.monotonic()
    print(f"  {name}: {now - started:,.0f} s", flush=True)
    return now


def build(path: Path, articles: int) -> None:
    """Bulk load: secondary indexes and the FTS trigger dropped, rows appended in key order, then
    every index re-created with the schema's own statement; the result's sqlite_master and
    sqlite_stat1 are a freshly migrated archive's."""
    if path.exists():
        raise SystemExit(f"{path} exists: the bulk build does not resume (journal off); delete it to rebuild")
    check_disk(path)
    db = open_archive(path)
    open_index(db).close()  # the index's migrations and parameters, as a crawl leaves them
    reference = schema(db)
    stats = db.execute("SELECT tbl, idx, stat FROM sqlite_stat1").fetchall()
    dropped = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ((type = 'index' AND tbl_name IN"
        f" ({','.join('?' * len(BULK_TABLES))})) OR name = 'articles_fts_insert') ORDER BY rowid", BULK_TABLES
    ).fetchall()
    # A synthetic archive, rebuilt (not recovered) after a crash: no rollback journal, no fsync.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    for kind, name, _, _ in dropped:
        db.execute(f"DROP {kind.upper()} {name}")
    started = clock = time.monotonic()
    for start in range(1, articles + 1, BATCH):
        stop = min(start + BATCH, articles + 1)
        ids = range(start, stop)
        with db.conn:
            for crawl_id in sorted({(i - 1) // PER_CRAWL + 1 for i in ids}):
                db.execute(
                    "INSERT OR IGNORE INTO crawls (id, source, started_at, finished_at, status, pages_fetched, stored,"
                    " source_digest, extraction_version, limit_reached) VALUES (?, ?, ?, ?, 'finished', ?, ?, ?, ?, 0)",
                    [crawl_id, f"source{crawl_id % SOURCES}", "2025-01-01T00:00:00+00:00", "2025-01-01T01:00:00+00:00",
                     PER_CRAWL, PER_CRAWL, "synthetic", EXTRACTION_VERSION],
                )
            rows = [article_row(i, (i - 1) // PER_CRAWL + 1) for i in ids]
            db.conn.executemany(ARTICLE_SQL, rows)
            dups = [(f"{r[1]}?utm_source=feed", r[2], r[3], r[4], r[9], r[0], 1.0, "url", r[16]) for r in rows if r[0] % 10 == 0]
            db.conn.executemany(
                "INSERT INTO duplicates (url, canonical_url, source, title, fetched_at, duplicate_of, similarity,"
                " kind, crawl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", dups)
            rng = np.random.default_rng(RNG_BASE + start)
            sigs = rng.integers(0, 2**32, size=(len(rows), NUM_PERM), dtype=np.uint32)
            rng.integers(-(2**63), 2**63 - 1, size=(len(rows), BANDS), dtype=np.int64)  # keeps the 1 M build's draws
            shingles = np.sort(rng.integers(0, 2**32, size=(len(rows), 10), dtype=np.uint32), axis=1)
            db.conn.executemany(
                "INSERT INTO near_duplicate_signatures (article_id, signature, shingles, shingle_hashes) VALUES (?, ?, ?, ?)",
                [(r[0], sigs[k].tobytes(), 10, shingles[k].tobytes()) for k, r in enumerate(rows)],
            )
        if (stop - 1) % 500_000 == 0 or stop > articles:
            check_disk(path)
            rate = (stop - 1) / (time.monotonic() - started)
            print(f"{stop - 1:,} articles ({rate:,.0f}/s)", flush=True)
    clock = phase("articles, duplicates, signatures", clock)
    recreate(db, dropped, "index", ("articles", "duplicates"))
    clock = phase("articles and duplicates indexes", clock)
    check_disk(path)
    load_pages(db)
    clock = phase("pages (in URL order)", clock)
    recreate(db, dropped, "index", ("pages",))
    clock = phase("pages indexes", clock)
    check_disk(path)
    for start in range(1, articles + 1, FTS_BATCH):
        with db.conn:
            db.execute(
                "INSERT INTO articles_fts (rowid, title, text) SELECT id, arshif_search_text(title),"
                " arshif_search_text(text) FROM articles WHERE id >= ? AND id < ?", [start, start + FTS_BATCH])
        check_disk(path)
    recreate(db, dropped, "trigger", ("articles",))
    clock = phase("full-text index", clock)
    check_disk(path)
    load_bands(db, articles, path)
    clock = phase(f"{articles * BANDS:,} band rows (in key order)", clock)
    with db.conn:
        db.execute("DELETE FROM sqlite_stat1")
        db.conn.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", stats)
    db.execute("PRAGMA journal_mode = WAL")
    built = schema(db)
    db.close()
    fresh = Path(tempfile.mkdtemp()) / "fresh.db"
    other = open_archive(fresh)
    open_index(other).close()
    expected = schema(other)
    other.close()
    shutil.rmtree(fresh.parent)
    if built != reference or built != expected:
        raise SystemExit(f"schema differs from a freshly migrated archive: {sorted(built ^ expected)}")
    print(f"schema: sqlite_master identical to a freshly migrated archive's ({len(built)} objects)"
          f"; built in {time.monotonic() - started:,.0f} s", flush=True)


def recreate(db, dropped: list, kind: str, tables: tuple) -> None:
    """Re-create the dropped objects of `kind` on `tables` with the schema's own statements, in schema order."""
    for object_kind, _, table, sql in dropped:
        if object_kind == kind and table in tables:
            db.execute(sql)


def load_pages(db) -> None:
    """`pages` rows for articles, duplicates and listings, one site at a time in URL order (so its
    primary-key index is appended to, not split at random), from the rows just written."""
    prefixes = sorted(f"https://site{s}.example/" for s in range(SOURCES))
    for prefix in prefixes:
        bounds = {"lo": prefix, "hi": prefix[:-1] + "0"}  # "0" follows "/": every URL under the prefix
        with db.conn:
            db.execute(
                "INSERT INTO pages (url, source, role, status, etag, last_modified, digest, warc_date, fetched_at,"
                " outcome, warc_file, warc_offset, warc_length, crawl_id) SELECT * FROM ("
                " SELECT url, source, 'article', 200, '\"' || substr(content_hash, 1, 12) || '\"', NULL,"
                "  'sha1:' || substr(content_hash, 1, 32), fetched_at, fetched_at, 'stored', warc_file, warc_offset,"
                "  warc_length, crawl_id FROM articles WHERE url >= :lo AND url < :hi"
                " UNION ALL SELECT url, source, 'article', 200, NULL, NULL, NULL, fetched_at, fetched_at, 'duplicate',"
                "  NULL, NULL, NULL, crawl_id FROM duplicates WHERE url >= :lo AND url < :hi"
                " UNION ALL SELECT 'https://site' || (id % 50) || '.example/section/' || (id / 100), source, 'listing',"
                "  200, '\"l' || id || '\"', 'Wed, 01 Jan 2025 00:00:00 GMT', 'sha1:l' || id, fetched_at, fetched_at,"
                "  NULL, warc_file, warc_offset, warc_length, crawl_id FROM articles"
                "  WHERE url >= :lo AND url < :hi AND id % 100 = 0"
                ") ORDER BY 1", bounds)


def load_bands(db, articles: int, path: Path) -> None:
    """BANDS rows per article with uniformly spread 64-bit keys, written in key order: row j's key is
    j's slot of the key space plus a jitter inside it (strictly increasing), its (article, band) pair
    j·P mod M (a permutation: every article gets exactly BANDS rows, scattered over the key space)."""
    total = articles * BANDS
    step = 2**64 // total - 1
    for start in range(0, total, BAND_BATCH):
        with db.conn:
            db.execute(
                "WITH RECURSIVE r(j) AS (SELECT :a UNION ALL SELECT j + 1 FROM r WHERE j + 1 < :b)"
                " INSERT INTO near_duplicate_bands (band_key, article_id)"
                " SELECT (j - :half) * :step + (j * :p) % :step, (j * :p) % :m / :bands + 1 FROM r",
                {"a": start, "b": min(start + BAND_BATCH, total), "half": total // 2, "step": step, "p": P,
                 "m": total, "bands": BANDS})
        check_disk(path)


def archive_path(articles: int) -> Path:
    return DATA / f"archive-{articles}.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    path = args.out or archive_path(args.articles)
    path.parent.mkdir(parents=True, exist_ok=True)
    build(path, args.articles)
    print(f"{path}: {path.stat().st_size / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
