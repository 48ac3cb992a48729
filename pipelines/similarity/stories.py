"""Stories decided when a run ends, from all of the run's verified pairs: no decision depends on arrival order.

During a run every new article is stored as a story of its own, and the near-duplicate
index records its verified pairs (``near_duplicate_pairs``: exact Jaccard at or above
the threshold, pipelines/similarity/near_duplicates.py). When the run's last article is
written, ``resolve_stories`` keeps the pairs that pass both template guards as the
archive stands at the end of the run:

- the two texts share MIN_DISTINCT_SHARED sampled shingles that fewer than
  COMMON_ARTICLES indexed articles carry (sharing template sentences alone, however many, joins nothing);
- they share an LSH band key with fewer than BUCKET_CAP articles (a pair proposed only
  by over-full buckets is refused; the index skips those buckets once full, which,
  as buckets only grow, refuses nothing this rule would keep).

Both counts are the whole run's, so the first run into an empty archive is guarded
as any later one, and the kept pairs are the same in any download order. A story is
then a connected component of the kept pairs, over this run's articles and the
stories of earlier runs they matched (joined stories take the smallest story id);
earlier runs' kept pairs are never revisited, so what is archived stays grouped.
Each article of the run gets ``story_match`` / ``story_similarity``: its most similar
kept pair among those it proposed (ties: the smaller id).

A run killed before its end leaves its pairs undecided (``near_duplicate_runs.resolved``
0); the next ``open_index`` decides them, for the articles that were written.
Everything is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from pipelines.similarity.near_duplicates import (
    COMMON_ARTICLES,
    MIN_DISTINCT_SHARED,
)

_CHUNK = 500


@dataclass
class Resolved:
    runs: int = 0  # generations decided
    pairs: int = 0  # verified pairs between two written articles
    kept: int = 0  # pairs that joined their articles' stories
    template_refused: int = 0  # shared template shingles only
    bucket_refused: int = 0  # proposed by over-full LSH buckets only
    stories_merged: int = 0  # stories that became part of another
    joined: int = 0  # articles of the run stored in another article's story (a kept pair of their own)


def resolve_stories(db: Database) -> Resolved:
    """Decide the stories of every run whose pairs are undecided (normally the one that just ended)."""
    done = Resolved()
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'near_duplicate_pairs'").fetchone():
        return done
    with db.atomic():
        generations = [row[0] for row in db.execute("SELECT generation FROM near_duplicate_runs WHERE resolved = 0")]
        if not generations:
            return done
        done.runs = len(generations)
        marks = ",".join("?" * len(generations))
        pairs = db.execute(
            "SELECT p.article_id, p.match_id, p.similarity, p.shared_sampled, p.shared_bands FROM near_duplicate_pairs p"
            " JOIN articles a ON a.id = p.article_id JOIN articles m ON m.id = p.match_id"
            f" WHERE p.generation IN ({marks})",
            generations,
        ).fetchall()
        done.pairs = len(pairs)
        sampled = [np.frombuffer(row[3] or b"", dtype="<u4") for row in pairs]
        bands = [np.frombuffer(row[4] or b"", dtype="<i8") for row in pairs]
        common = _in_table(db, "SELECT hash FROM near_duplicate_shingle_counts WHERE articles >= ? AND hash IN ({})",
                           [COMMON_ARTICLES], {int(h) for values in sampled for h in values.tolist()})
        full = _in_table(db, "SELECT band_key FROM near_duplicate_full_bands WHERE 1 = ? AND band_key IN ({})",
                         [1], {int(k) for values in bands for k in values.tolist()})
        kept = []
        for row, shared, keys in zip(pairs, sampled, bands):
            if sum(int(h) not in common for h in shared.tolist()) < MIN_DISTINCT_SHARED:
                done.template_refused += 1
            elif not any(int(k) not in full for k in keys.tolist()):
                done.bucket_refused += 1
            else:
                kept.append(row[:3])
        done.kept = len(kept)
        ids = sorted({i for article_id, match_id, _ in kept for i in (article_id, match_id)})
        story = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            story.update(db.execute(
                f"SELECT id, COALESCE(story_id, id) FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        parent: dict[int, int] = {}

        def root(s: int) -> int:
            while parent.get(s, s) != s:
                parent[s] = parent.get(parent[s], parent[s])
                s = parent[s]
            return s

        for article_id, match_id, _ in kept:
            a, b = root(story[article_id]), root(story[match_id])
            if a != b:
                parent[max(a, b)] = min(a, b)
        merges = [(root(s), s) for s in set(story.values()) if root(s) != s]
        done.stories_merged = len(merges)
        db.conn.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merges)
        best: dict[int, tuple[int, float]] = {}
        for article_id, match_id, similarity in kept:
            if article_id not in best or (-similarity, match_id) < (-best[article_id][1], best[article_id][0]):
                best[article_id] = (match_id, similarity)
        done.joined = len(best)
        db.conn.executemany("UPDATE articles SET story_match = ?, story_similarity = ? WHERE id = ?",
                            [(match_id, similarity, article_id) for article_id, (match_id, similarity) in best.items()])
        db.execute(f"UPDATE near_duplicate_pairs SET shared_sampled = NULL, shared_bands = NULL WHERE generation IN ({marks})",
                   generations)
        db.execute(f"UPDATE near_duplicate_runs SET resolved = 1 WHERE generation IN ({marks})", generations)
    return done


def _in_table(db: Database, sql: str, params: list, values: set[int]) -> set[int]:
    """Which of ``values`` the query finds, asked in chunks (SQLite's variable limit)."""
    found: set[int] = set()
    values = list(values)
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        found.update(row[0] for row in db.execute(sql.format(",".join("?" * len(chunk))), [*params, *chunk]))
    return found
