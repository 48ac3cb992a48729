"""Build a synthetic Arabic archive of N articles through the project's own schema and insert path.

    python -m bench.datasette.build --articles 100000
    nice -n 10 python -m bench.datasette.build --articles 1000000

`open_archive` (every migration), `start_crawl`/`finish_crawl` for the crawls and
`insert_rows` for articles and duplicates, so the FTS index is filled by the
archive's own trigger; the search forms are precomputed as the extraction worker
does (`fingerprints.search_title/search_text`). 20 sources, three years
(2023-2025), ~315 words per article drawn from the words of bench/throughput/bank.py
(Zipf weights); 2% undated; 5% with 1-3 duplicates; one crawl per source per week.
Fixed words at fixed shares make the bench queries reproducible: a form of مؤتمر
in 10% of articles, a form of وزارة in 25%.

Run it from a checkout of the code to measure (`cd /tmp/base && python -m
bench.datasette.build --out ...` after copying this folder there): the index
then holds that code's search forms. Deterministic per article id, built in batches that each commit: an interrupted
build resumes where it stopped. The archive is cached as
bench/datasette/.data/archive-N.db (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import random
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.throughput import bank  # noqa: E402
from pipelines.archive.database import finish_crawl, insert_rows, open_archive  # noqa: E402
from pipelines.text.normalize import tokens  # noqa: E402
from pipelines.text.search_text import search_form  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"
SOURCES = ("aljazeera", "alarabiya", "bbcarabic", "skynewsarabia", "france24ar", "alquds", "annahar", "asharq",
           "alahram", "almasryalyoum", "hespress", "elkhabar", "alrai", "alghad", "almadapaper", "shafaq",
           "alsumaria", "alwatan", "okaz", "albayan")
START = datetime(2023, 1, 1)
DAYS = 3 * 365
WEEKS = DAYS // 7 + 1
WORDS = 315
BATCH = 2000
COMMON = ("مؤتمر", "المؤتمر", "مؤتمراً", "بالمؤتمر", "للمؤتمر", "مؤتمرات")  # 10% of articles
SECOND = ("وزارة", "الوزارة", "وزارات", "للوزارة")  # 25% of articles
WORD_RE = re.compile(r"[\u0621-\u064a]{2,}")


def _vocabulary() -> tuple[list[str], list[float]]:
    skip = ("PERSIAN", "ENGLISH", "PERSIAN_SENTENCES", "PERSIAN_HEADLINES", "ENGLISH_SENTENCES", "ENGLISH_HEADLINES")
    text = repr({name: getattr(bank, name) for name in dir(bank) if name.isupper() and name not in skip})
    words = sorted({w for w in WORD_RE.findall(text) if "مؤتمر" not in w and "وزار" not in w})
    random.Random(7).shuffle(words)
    weights = list(itertools.accumulate(1.0 / rank for rank in range(1, len(words) + 1)))
    return words, weights


VOCABULARY, CUM_WEIGHTS = _vocabulary()


def crawl_id_of(source_index: int, week: int) -> int:
    return week * len(SOURCES) + source_index + 1


def article(article_id: int) -> dict:
    rng = random.Random(article_id * 7919)
    source_index = rng.randrange(len(SOURCES))
    day = rng.randrange(DAYS)
    published = START + timedelta(days=day, minutes=rng.randrange(24 * 60))
    words = rng.choices(VOCABULARY, cum_weights=CUM_WEIGHTS, k=WORDS)
    if rng.random() < 0.10:
        words[rng.randrange(WORDS)] = rng.choice(COMMON)
    if rng.random() < 0.25:
        words[rng.randrange(WORDS)] = rng.choice(SECOND)
    paragraphs = []
    for start in range(0, WORDS, 45):
        chunk = words[start:start + 45]
        paragraphs.append(" ".join(chunk[:20]) + "، " + " ".join(chunk[20:]) + ".")
    text = "\n".join(paragraphs)
    title = " ".join(rng.choices(VOCABULARY, cum_weights=CUM_WEIGHTS, k=rng.randint(6, 12)))
    source = SOURCES[source_index]
    url = f"https://{source}.example/news/{article_id}.html"
    fetched = published + timedelta(hours=rng.randint(1, 48))
    return {
        "id": article_id, "url": url, "canonical_url": url, "source": source, "title": title,
        "author": None if rng.random() < 0.3 else rng.choice(bank.FIRST_NAMES) + " " + rng.choice(bank.LAST_NAMES),
        "published": None if rng.random() < 0.02 else published.isoformat(timespec="seconds"),
        "description": None, "site_name": source, "fetched_at": fetched.isoformat(timespec="seconds") + "+00:00",
        "language": "ar", "language_prob": 0.99, "text": text, "word_count": WORDS,
        "content_hash": f"{article_id:040x}", "encoding": "utf-8",
        "crawl_id": crawl_id_of(source_index, min(day // 7, WEEKS - 1)),
        "fingerprints": {"search_title": search_form(tokens(title)), "search_text": search_form(tokens(text))},
    }


def duplicates_of(row: dict) -> list[dict]:
    rng = random.Random(row["id"] * 104729)
    if rng.random() >= 0.05:
        return []
    return [{
        "url": f"https://{rng.choice(SOURCES)}.example/copy/{row['id']}-{n}.html", "canonical_url": None,
        "source": row["source"], "title": row["title"], "fetched_at": row["fetched_at"], "duplicate_of": row["id"],
        "similarity": round(rng.uniform(0.8, 1.0), 3), "kind": rng.choice(("url", "exact", "near")),
        "crawl_id": row["crawl_id"],
    } for n in range(rng.randint(1, 3))]


def _batch(ids: range) -> list[dict]:
    return [article(i) for i in ids]


def archive_path(articles: int) -> Path:
    return DATA / f"archive-{articles}.db"


def build(articles: int, path: Path | None = None, workers: int = 1) -> Path:
    path = path or archive_path(articles)
    db = open_archive(path)
    if db["crawls"].count == 0:
        with db.atomic():
            for week in range(WEEKS):
                for index, source in enumerate(SOURCES):
                    started = (START + timedelta(days=7 * week)).isoformat(timespec="seconds") + "+00:00"
                    db["crawls"].insert({"id": crawl_id_of(index, week), "source": source, "started_at": started,
                                         "status": "running"})
        for crawl_id in range(1, WEEKS * len(SOURCES) + 1):
            finish_crawl(db, crawl_id, "finished", {"stored": 0}, {})
    done = db.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
    started = time.monotonic()
    chunks = [range(low, min(low + BATCH, articles + 1)) for low in range(done + 1, articles + 1, BATCH)]
    with multiprocessing.Pool(workers) as pool:
        for n, rows in enumerate(pool.imap(_batch, chunks), 1):
            insert_rows(db, rows, [d for row in rows for d in duplicates_of(row)])
            if n % 25 == 0 or n == len(chunks):
                rate = n * BATCH / (time.monotonic() - started)
                print(f"{rows[-1]['id']:,} articles ({rate:,.0f}/s)", flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.commit()
    db.close()
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="processes that generate and stem articles")
    parser.add_argument("--out", type=Path, help=f"archive to build (default {DATA}/archive-N.db)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    path = build(args.articles, args.out, workers=args.workers)
    print(f"{path}: built in {time.monotonic() - started:,.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
