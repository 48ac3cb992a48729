"""Build a synthetic archive of N articles through the project's own schema, as the pipelines leave it.

    python -m bench.archive_size.build --articles 1000000

`open_archive` (every migration) and the near-duplicate index's own migrations
(`open_index`), then bulk inserts shaped like the pipelines' rows: one `crawls`
row per 10,000 articles (finished, with source digest and extraction version),
`articles` (short texts: ~12 words, so 10 M fit the disk; the FTS trigger fills
`articles_fts`), one `duplicates` row per 10 articles (a tracking-parameter alias,
kind `url`), one `pages` row per article and per duplicate (role `article`,
outcome `stored`/`duplicate`, with ETag and WARC fields) plus one listing page per
100 articles, and the near-duplicate index: a 128-value signature, shingle
hashes and 32 LSH band keys per article. Signatures and band keys are random
(what a hash of distinct texts looks like): computing MinHash for 10 M texts
would take an hour and changes nothing in what a lookup reads. Deterministic per
article id; each batch commits, so an interrupted build resumes. 50 sources.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
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


def build(path: Path, articles: int) -> None:
    db = open_archive(path)
    db.execute("PRAGMA synchronous = OFF")  # a bench archive: rebuilt, not recovered, after a crash
    db.execute("PRAGMA cache_size = -500000")
    open_index(db).close()  # the index's migrations and parameters, as a crawl leaves them
    done = db.execute("SELECT COALESCE(MAX(id), 0) FROM articles WHERE url LIKE 'https://site%'").fetchone()[0]
    rng_base = 12345
    started = time.monotonic()
    for start in range(done + 1, articles + 1, BATCH):
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
                "INSERT OR IGNORE INTO duplicates (url, canonical_url, source, title, fetched_at, duplicate_of, similarity,"
                " kind, crawl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", dups)
            pages = [(r[1], r[3], "article", 200, f'"{r[14][:12]}"', None, f"sha1:{r[14][:32]}", r[9], r[9], "stored",
                      r[17], r[18], r[19], r[16]) for r in rows]
            pages += [(d[0], d[2], "article", 200, None, None, None, d[4], d[4], "duplicate", None, None, None, d[8])
                      for d in dups]
            pages += [(f"https://site{r[0] % SOURCES}.example/section/{r[0] // 100}", r[3], "listing", 200,
                       f'"l{r[0]}"', "Wed, 01 Jan 2025 00:00:00 GMT", f"sha1:l{r[0]}", r[9], r[9], None, r[17], r[18],
                       r[19], r[16]) for r in rows if r[0] % 100 == 0]
            db.conn.executemany(PAGE_SQL, pages)
            rng = np.random.default_rng(rng_base + start)
            sigs = rng.integers(0, 2**32, size=(len(rows), NUM_PERM), dtype=np.uint32)
            bands = rng.integers(-(2**63), 2**63 - 1, size=(len(rows), BANDS), dtype=np.int64)
            shingles = np.sort(rng.integers(0, 2**32, size=(len(rows), 10), dtype=np.uint32), axis=1)
            db.conn.executemany(
                "INSERT OR REPLACE INTO near_duplicate_signatures (article_id, signature, shingles, shingle_hashes)"
                " VALUES (?, ?, ?, ?)",
                [(r[0], sigs[k].tobytes(), 10, shingles[k].tobytes()) for k, r in enumerate(rows)],
            )
            db.conn.executemany(
                "INSERT OR IGNORE INTO near_duplicate_bands (band_key, article_id) VALUES (?, ?)",
                [(int(key), r[0]) for k, r in enumerate(rows) for key in bands[k]],
            )
        rate = (stop - done - 1) / (time.monotonic() - started)
        print(f"{stop - 1:,} articles ({rate:,.0f}/s)", flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


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
