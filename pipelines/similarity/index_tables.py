"""The near-duplicate index's other tables made to describe an archive's articles as they now are (`arshif reextract`).

A reextract swaps a rebuilt archive's articles, signatures and bands in under the live
archive's ids (pipelines/archive/rebuild.py). The index's other tables are derived from
those: the verified pairs (carried from the rebuild through its id map), and the template
guards, which count what is indexed, so they are counted again from the swapped
signatures and bands rather than carried: the live counts include texts a reextract
replaced (and an edited article's earlier text, which a refresh never uncounts).
Everything runs on the caller's connection, inside its transaction; a row that is
already right keeps its generation stamp, so a second reextract changes nothing.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from pipelines.similarity.near_duplicates import (
    BUCKET_CAP,
    COMMON_ARTICLES,
    sampled_hashes,
)

TABLES = ("near_duplicate_pairs", "near_duplicate_shingle_counts", "near_duplicate_common", "near_duplicate_full_bands",
          "near_duplicate_runs")
_CHUNK = 1000


def has_tables(c: sqlite3.Connection, schema: str) -> bool:
    names = {row[0] for row in c.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}
    return all(table in names for table in TABLES)


def carry_pairs(c: sqlite3.Connection, generation: int) -> None:
    """The rebuild's verified pairs under the live ids (temp.idmap: rebuilt id → live id), and the live pairs
    of the articles the rebuild did not produce (temp.kept_articles) whose match is still an article.

    Every run's stories are decided once the swap commits (the rebuild decided its own), so the
    pairs carry no end-of-run evidence; a pair the live archive already had keeps its generation."""
    c.execute("CREATE TEMP TABLE kept_pairs AS SELECT * FROM main.near_duplicate_pairs"
              " WHERE article_id IN (SELECT id FROM temp.kept_articles)")
    c.execute("CREATE TEMP TABLE old_pairs AS SELECT article_id, match_id, generation FROM main.near_duplicate_pairs")
    c.execute("DELETE FROM main.near_duplicate_pairs")
    c.execute(
        "INSERT INTO main.near_duplicate_pairs (article_id, match_id, similarity, generation, shared_sampled, shared_bands)"
        " SELECT a.new, m.new, r.similarity, COALESCE(o.generation, ?), NULL, NULL FROM rebuilt.near_duplicate_pairs r"
        " JOIN temp.idmap a ON a.old = r.article_id JOIN temp.idmap m ON m.old = r.match_id"
        " LEFT JOIN temp.old_pairs o ON o.article_id = a.new AND o.match_id = m.new", [generation])
    c.execute("INSERT OR IGNORE INTO main.near_duplicate_pairs SELECT * FROM temp.kept_pairs"
              " WHERE match_id IN (SELECT id FROM main.articles)")
    c.execute("UPDATE main.near_duplicate_pairs SET shared_sampled = NULL, shared_bands = NULL"
              " WHERE shared_sampled IS NOT NULL OR shared_bands IS NOT NULL")
    c.execute("UPDATE main.near_duplicate_runs SET resolved = 1 WHERE resolved = 0")


def recount_guards(c: sqlite3.Connection, generation: int) -> None:
    """Count the sampled shingles of every indexed text once, and mark template shingles and over-full buckets
    from those counts (a mark already there keeps its generation; one no longer true goes)."""
    c.execute("DELETE FROM main.near_duplicate_shingle_counts")
    last = -1
    while True:
        rows = c.execute("SELECT article_id, shingle_hashes FROM main.near_duplicate_signatures WHERE article_id > ?"
                         " ORDER BY article_id LIMIT ?", [last, _CHUNK]).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        sampled = np.concatenate([sampled_hashes(np.unique(np.frombuffer(data or b"", dtype="<u4"))) for _, data in rows])
        values, counts = np.unique(sampled, return_counts=True)
        c.executemany(
            "INSERT INTO main.near_duplicate_shingle_counts (hash, articles) VALUES (?, ?)"
            " ON CONFLICT (hash) DO UPDATE SET articles = articles + excluded.articles",
            zip(values.tolist(), counts.tolist()))
    c.execute("DELETE FROM main.near_duplicate_common WHERE hash NOT IN"
              " (SELECT hash FROM main.near_duplicate_shingle_counts WHERE articles >= ?)", [COMMON_ARTICLES])
    c.execute("INSERT OR IGNORE INTO main.near_duplicate_common (hash, generation)"
              " SELECT hash, ? FROM main.near_duplicate_shingle_counts WHERE articles >= ?", [generation, COMMON_ARTICLES])
    c.execute("CREATE TEMP TABLE full_now AS SELECT band_key FROM main.near_duplicate_bands"
              " GROUP BY band_key HAVING COUNT(*) >= ?", [BUCKET_CAP])
    c.execute("DELETE FROM main.near_duplicate_full_bands WHERE band_key NOT IN (SELECT band_key FROM temp.full_now)")
    c.execute("INSERT OR IGNORE INTO main.near_duplicate_full_bands (band_key, generation)"
              " SELECT band_key, ? FROM temp.full_now", [generation])


def describe_archive(c: sqlite3.Connection) -> None:
    """`carry_pairs` and `recount_guards`, stamped with the live archive's latest generation (no run is added:
    a reextract is not a crawl, and a second one must change nothing)."""
    generation = c.execute("SELECT COALESCE(MAX(generation), 0) FROM main.near_duplicate_runs").fetchone()[0]
    carry_pairs(c, generation)
    recount_guards(c, generation)


TEMP_TABLES = ("kept_pairs", "old_pairs", "full_now")
