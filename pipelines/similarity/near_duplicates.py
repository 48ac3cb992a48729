"""Near-duplicates: MinHash of word shingles, LSH band keys kept in the archive and queried there.

A text's signature is a MinHash of its word shingles (pipelines/similarity/minhash.py,
computed in the extraction worker).

The index is two tables that the archive carries from one crawl to the next,
created by this module's own migrations (``Migrations("arshif_near_duplicates")``):

- ``near_duplicate_signatures(article_id, signature, shingles)``: the MinHash
  values of every article (little-endian uint32);
- ``near_duplicate_bands(band_key, article_id)``: LSH with BANDS bands of ROWS
  values; ``band_key`` is a 64-bit hash of (band number, band values).

A lookup asks SQLite for the articles sharing at least one band key (one
indexed query): MinHash-LSH only proposes. Each candidate is then decided by
the exact Jaccard similarity of the two shingle sets, counted on the shingles'
32-bit hashes, which ``near_duplicate_signatures.shingle_hashes`` keeps (sorted
uint32, 4 bytes a distinct shingle). The MinHash estimate is never trusted on
its own: at J = 0.43 (two texts sharing 60% of their sentences) 128 values put
it at or above 0.5 about one time in twenty. The estimate only spares reading
the hashes of candidates far below the threshold (PREFILTER_MARGIN: a pair at the
threshold is refused that way with probability 4.3e-9). Nothing is loaded at start-up except the signatures
of articles stored since the index was last written (normally none), so the
cost of a lookup depends on the number of candidates, not on the archive size.
New entries are buffered in memory and written in short transactions.

With BANDS=32 and ROWS=4, a pair of texts becomes a candidate with probability
1 - (1 - J^4)^32: 0.87 at J = 0.5, 0.99 at J = 0.6, 0.9998 at J = 0.7. The band
layout is fixed (recorded in ``near_duplicate_params``) so the threshold can be
changed between crawls without rebuilding the index; thresholds below 0.5 lose
candidates.

Template text (recurring reports: prayer times, weather, markets, results; a site's
boilerplate) makes unrelated articles reach the threshold, and through them their
stories chain into one. So a verified pair is only recorded here
(``near_duplicate_pairs``, with the sampled shingles and band keys the two texts
share); whether it joins a story is decided when the run ends, from the whole run's
counts (pipelines/similarity/stories.py), so the first run into an empty archive is
guarded too and no decision depends on the order pages arrive in. The counts:

- **common shingles**: the shingles whose hash is in the sample (hash % COUNT_SAMPLE
  == 0) are counted per indexed article (``near_duplicate_shingle_counts``); one
  counted in COMMON_ARTICLES articles is template (``near_duplicate_common`` stamps
  when, by generation: one per ``open_index``);
- **over-full LSH buckets**: a band key shared by BUCKET_CAP articles
  (``near_duplicate_full_bands``) proposes no candidates from then on; true copies
  share many bands, template-heavy texts share the same few. Skipped buckets are counted.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import numpy as np
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from pipelines.archive.kill_points import KillPoint
from pipelines.similarity.minhash import (  # noqa: F401  (re-exported: the index's callers use one module)
    BANDS,
    NUM_PERM,
    ROWS,
    SCHEME,
    SEED,
    SHINGLE_WORDS,
    Signature,
    band_keys,
    minhash_values,
    shingles,
    shingles_of,
    signature,
    signature_of,
)

logger = logging.getLogger(__name__)
_U32, _I64 = np.dtype("<u4"), np.dtype("<i8")

DEFAULT_THRESHOLD = 0.6  # exact Jaccard; measured on bench/dedup/hard.py: see bench/dedup/README.md
# The template guards (module docstring), measured on bench/dedup/hard.py: see bench/dedup/README.md
COUNT_SAMPLE = 4  # shingles counted: those whose hash is a multiple of this (a quarter: 4x fewer writes)
COMMON_ARTICLES = 100  # a sampled shingle in this many indexed articles is template text
MIN_DISTINCT_SHARED = 1  # sampled non-template shingles a verified pair must share
BUCKET_CAP = 64  # a band key shared by this many articles proposes no candidates
# A candidate whose MinHash estimate is below threshold - PREFILTER_MARGIN is not verified (its shingle
# hashes are not read): with 128 values, a pair at J = 0.6 has an estimate below 0.35 with probability
# 4.3e-9 (binomial tail, P[X <= 44], X ~ B(128, 0.6)); at J = 0.55, 2.1e-6. Never a reason to accept.
PREFILTER_MARGIN = 0.25
PARAMS = {"num_perm": NUM_PERM, "bands": BANDS, "rows": ROWS, "shingle_words": SHINGLE_WORDS, "seed": SEED,
          "scheme": SCHEME, "tokens": "normalize.tokens/1", "verify": "exact-jaccard/sha1_hash32"}

migrations = Migrations("arshif_near_duplicates")


@migrations()
def m001_minhash_lsh(db: Database) -> None:
    db["near_duplicate_params"].create({"name": str, "value": str}, pk="name")
    db["near_duplicate_signatures"].create({"article_id": int, "signature": bytes, "shingles": int}, pk="article_id")
    db.execute(
        "CREATE TABLE near_duplicate_bands (band_key INTEGER NOT NULL, article_id INTEGER NOT NULL,"
        " PRIMARY KEY (band_key, article_id)) WITHOUT ROWID"
    )


@migrations()
def m002_shingle_hashes(db: Database) -> None:
    """The shingles' hashes, so that every candidate is decided by exact Jaccard (PARAMS "verify"
    changes with it: open_index rebuilds an older index from the articles' text)."""
    db["near_duplicate_signatures"].add_column("shingle_hashes", bytes)


@migrations()
def m050_template_guards(db: Database) -> None:
    """Generations (one per run), sampled shingle counts, template shingles and over-full buckets.

    An index made before this starts with no counts: it learns its template shingles
    from the articles indexed from now on (one run's worth before the guard applies)."""
    db.execute("CREATE TABLE IF NOT EXISTS near_duplicate_runs (generation INTEGER PRIMARY KEY, started TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS near_duplicate_shingle_counts (hash INTEGER PRIMARY KEY, articles INTEGER NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS near_duplicate_common (hash INTEGER PRIMARY KEY, generation INTEGER NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS near_duplicate_full_bands (band_key INTEGER PRIMARY KEY, generation INTEGER NOT NULL)")


@migrations()
def m060_story_pairs(db: Database) -> None:
    """The verified pairs of each run, decided into stories when the run ends (pipelines/similarity/stories.py).

    ``near_duplicate_pairs``: an article, the indexed article it reached the threshold
    with, their exact Jaccard, the run's generation, and what the end-of-run guards
    need (their shared sampled shingle hashes and shared LSH band keys, dropped once
    decided). ``near_duplicate_runs.resolved``: 1 once the run's pairs are decided;
    runs made before this decided their stories on arrival and count as decided."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS near_duplicate_pairs (article_id INTEGER NOT NULL, match_id INTEGER NOT NULL,"
        " similarity REAL NOT NULL, generation INTEGER NOT NULL, shared_sampled BLOB, shared_bands BLOB,"
        " PRIMARY KEY (article_id, match_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_near_duplicate_pairs_generation ON near_duplicate_pairs (generation)")
    columns = {row[1] for row in db.execute("PRAGMA table_info(near_duplicate_runs)")}
    if "resolved" not in columns:
        db.execute("ALTER TABLE near_duplicate_runs ADD COLUMN resolved INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE near_duplicate_runs SET resolved = 1")


# tests only: kill -9 right after the Nth index write (committed, or uncommitted inside a caller's transaction)
_INDEX_WRITTEN = KillPoint("ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES")


class NearDuplicateIndex:
    """The archive's MinHash-LSH index: ``propose`` records an article's verified pairs, ``add`` indexes it."""

    def __init__(self, db: Database, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 200, generation: int = 1):
        self.db = db
        self.generation = generation  # this run's: its pairs, counts and full buckets are stamped with it
        self.threshold = threshold
        self.batch_size = max(1, batch_size)
        self.pending: dict[int, Signature] = {}  # article id → signature, not yet written
        self.pending_bands: dict[int, set[int]] = defaultdict(set)  # band key → article ids
        self.pending_pairs: dict[int, list[tuple]] = {}  # article id → its verified pairs, not yet written
        self.replaced: set[int] = set()  # written articles whose signature changes at the next flush
        self.full: set[int] = set()  # band keys known to be over-full (BUCKET_CAP articles or more): they only grow
        self.candidates_checked = 0
        self.estimate_accepted = 0  # candidates whose MinHash estimate reaches the threshold (the old decision)
        self.exact_accepted = 0  # candidates whose exact Jaccard reaches it (verified pairs)
        self.estimate_only = 0  # accepted by the estimate, refused by exact Jaccard: what the old code got wrong
        self.buckets_skipped = 0  # over-full band keys that proposed nothing

    # -- lookups --------------------------------------------------------------

    def matches(self, sig: Signature, exclude: int | None = None) -> list[tuple[int, float]]:
        """Every indexed article whose exact Jaccard similarity reaches the threshold, as (id, similarity),
        most similar first (ties: the lowest id). Whether a pair joins a story is decided when the run
        ends (pipelines/similarity/stories.py: the template guards)."""
        return [(article_id, similarity) for article_id, similarity, _ in self._verified(sig, exclude)]

    def _verified(self, sig: Signature, exclude: int | None) -> list[tuple[int, float, Signature]]:
        if not sig.shingles:
            return []
        found = []
        plausible = []
        for article_id, other in self.candidates(sig):
            if article_id == exclude:
                continue
            self.candidates_checked += 1
            estimate = sig.similarity(other)
            self.estimate_accepted += estimate >= self.threshold
            if estimate >= self.threshold - PREFILTER_MARGIN:
                plausible.append((article_id, other, estimate))
        for article_id, other, estimate in self._with_hashes(plausible):
            similarity = sig.jaccard(other)
            if similarity >= self.threshold:
                self.exact_accepted += 1
                found.append((article_id, similarity, other))
            else:
                self.estimate_only += estimate >= self.threshold
        return sorted(found, key=lambda match: (-match[1], match[0]))

    def _with_hashes(self, plausible: list[tuple[int, Signature, float]]) -> list[tuple[int, Signature, float]]:
        """The candidates with their shingle hashes, read (one indexed query a chunk) only for these."""
        missing = [article_id for article_id, other, _ in plausible if other.hashes is None]
        hashes: dict[int, bytes] = {}
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            hashes.update(self.db.execute(
                f"SELECT article_id, shingle_hashes FROM near_duplicate_signatures WHERE article_id IN ({','.join('?' * len(chunk))})",
                chunk))
        return [(article_id, other if other.hashes is not None else
                 Signature.from_bytes(other.to_bytes(), other.shingles, other.bands, hashes.get(article_id) or b""), estimate)
                for article_id, other, estimate in plausible]

    def propose(self, article_id: int, sig: Signature) -> list[tuple[int, float]]:
        """``matches``, recorded as the article's pairs (written with the index's next batch) for the
        end-of-run decision, with the shared sampled shingles and band keys that decision reads."""
        self.pending_pairs.pop(article_id, None)
        verified = self._verified(sig, article_id)
        pairs = []
        if verified:
            sampled = sampled_hashes(sig.hashes)
            bands = np.array(sig.band_keys(), dtype=np.int64)
            pairs = [
                (article_id, other_id, round(similarity, 4), self.generation,
                 np.intersect1d(sampled, other.hashes, assume_unique=True).astype(_U32).tobytes(),
                 np.intersect1d(bands, np.array(other.band_keys(), dtype=np.int64)).astype(_I64).tobytes())
                for other_id, similarity, other in verified
            ]
        self.pending_pairs[article_id] = pairs  # even empty: a re-proposed article loses its earlier pairs
        return [(other_id, similarity) for other_id, similarity, _ in verified]

    def find(self, sig: Signature, exclude: int | None = None) -> tuple[int, float] | None:
        """The most similar verified match (``matches``), or None."""
        found = self.matches(sig, exclude)
        return found[0] if found else None

    def candidates(self, sig: Signature) -> list[tuple[int, Signature]]:
        """Articles sharing at least one band with ``sig`` that is not over-full, with their current signatures
        (MinHash values; the shingle hashes only for articles not yet written).

        A bucket over-full now is over-full when the run ends (buckets only grow), when
        the pairs it alone proposed would be refused anyway: skipping it changes no
        decision, whatever the order pages arrive in."""
        keys = sig.band_keys()
        unknown = [key for key in keys if key not in self.full]
        if unknown:
            marks = ",".join("?" * len(unknown))
            self.full.update(row[0] for row in self.db.execute(
                f"SELECT band_key FROM near_duplicate_full_bands WHERE band_key IN ({marks})", unknown))
        skipped = sum(key in self.full for key in keys)
        if skipped:
            self.buckets_skipped += skipped
            keys = [key for key in keys if key not in self.full]
        found: dict[int, Signature] = {}
        for key in keys:
            for article_id in self.pending_bands.get(key, ()):
                found[article_id] = self.pending[article_id]
        if not keys:
            return list(found.items())
        stored = [
            row[0]
            for row in self.db.execute(
                f"SELECT DISTINCT article_id FROM near_duplicate_bands WHERE band_key IN ({','.join('?' * len(keys))})", keys)
            if row[0] not in found
        ]
        for start in range(0, len(stored), 500):
            chunk = stored[start : start + 500]
            rows = self.db.execute(  # the MinHash values only: the shingle hashes (4 KiB a text) when plausible
                "SELECT article_id, signature, shingles FROM near_duplicate_signatures"
                f" WHERE article_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for article_id, data, count in rows:
                found[article_id] = self.pending.get(article_id) or Signature.from_bytes(data, count)
        return list(found.items())

    # -- writes -----------------------------------------------------------------

    def add(self, article_id: int, sig: Signature) -> None:
        """Index a stored article (or give an article a new text's signature); ``sig`` carries its hashes."""
        if sig.hashes is None:
            raise ValueError("the index keeps the shingle hashes: sign the text with signature() or signature_of()")
        if not sig.shingles:
            return
        self.pending[article_id] = sig
        for key in sig.band_keys():
            self.pending_bands[key].add(article_id)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def replace(self, article_id: int, sig: Signature) -> None:
        """The article's text changed (a better-placed copy of the same page took its id): re-index it."""
        old = self.pending.pop(article_id, None)
        if old is not None:
            for key in old.band_keys():
                self.pending_bands[key].discard(article_id)
        else:
            self.replaced.add(article_id)
        self.add(article_id, sig)

    def flush(self) -> None:
        if not self.pending and not self.replaced and not self.pending_pairs:
            return
        uncounted = Counter()  # the replaced texts' sampled shingles: no longer in any indexed article
        with self.db.atomic():  # nested in a caller's transaction (arshif merge): a savepoint, committed with it
            for article_id in self.replaced:
                row = self.db.execute(
                    "SELECT signature, shingle_hashes FROM near_duplicate_signatures WHERE article_id = ?", [article_id]
                ).fetchone()
                if row:
                    self.db.conn.executemany(
                        "DELETE FROM near_duplicate_bands WHERE band_key = ? AND article_id = ?",
                        [(key, article_id) for key in Signature.from_bytes(row[0]).band_keys()],
                    )
                    uncounted.update(sampled_hashes(np.frombuffer(row[1] or b"", dtype=_U32)).tolist())
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO near_duplicate_signatures (article_id, signature, shingles, shingle_hashes)"
                " VALUES (?, ?, ?, ?)",
                [(article_id, sig.to_bytes(), sig.shingles, sig.hashes_bytes()) for article_id, sig in self.pending.items()],
            )
            # in key order: each B-tree leaf is visited once a batch, not once a row (the keys are random hashes)
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO near_duplicate_bands (band_key, article_id) VALUES (?, ?)",
                sorted((key, article_id) for key, ids in self.pending_bands.items() for article_id in ids),
            )
            if self.pending_pairs:
                self.db.conn.executemany(  # an article proposed again (a re-indexed alias) has only its last pairs
                    "DELETE FROM near_duplicate_pairs WHERE article_id = ? AND generation = ?",
                    [(article_id, self.generation) for article_id in self.pending_pairs if article_id in self.replaced])
                self.db.conn.executemany(
                    "INSERT OR REPLACE INTO near_duplicate_pairs"
                    " (article_id, match_id, similarity, generation, shared_sampled, shared_bands) VALUES (?, ?, ?, ?, ?, ?)",
                    [pair for pairs in self.pending_pairs.values() for pair in pairs],
                )
            self._learn_templates(uncounted)
        _INDEX_WRITTEN.reached()  # after the index's own commit, or inside the caller's transaction that holds it
        self.pending.clear()
        self.pending_bands.clear()
        self.pending_pairs.clear()
        self.replaced.clear()

    def _learn_templates(self, uncounted: Counter | None = None) -> None:
        """Count the batch's sampled shingles, less those of the texts its articles replaced (each text
        counts once); stamp those that became template, and the band keys that became over-full, with
        this run's generation. Indexed writes only."""
        counts = Counter()
        for sig in self.pending.values():
            counts.update(sampled_hashes(sig.hashes).tolist())
        counts.subtract(uncounted or {})
        self.db.conn.executemany(
            "INSERT INTO near_duplicate_shingle_counts (hash, articles) VALUES (?, ?)"
            " ON CONFLICT (hash) DO UPDATE SET articles = articles + excluded.articles",
            sorted((value, n) for value, n in counts.items() if n > 0),
        )
        self.db.conn.executemany(  # counted when the replaced text was indexed: the row is there
            "UPDATE near_duplicate_shingle_counts SET articles = MAX(0, articles + ?) WHERE hash = ?",
            sorted((n, value) for value, n in counts.items() if n < 0),
        )
        counts = +counts  # what grew: only those can have become template
        hashes = sorted(counts)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            self.db.execute(
                "INSERT OR IGNORE INTO near_duplicate_common (hash, generation) SELECT hash, ?"
                f" FROM near_duplicate_shingle_counts WHERE hash IN ({','.join('?' * len(chunk))}) AND articles >= ?",
                [self.generation, *chunk, COMMON_ARTICLES],
            )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO near_duplicate_full_bands (band_key, generation) SELECT ?, ?"
            " WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM near_duplicate_bands WHERE band_key = ? LIMIT ?)) >= ?",
            [(key, self.generation, key, BUCKET_CAP, BUCKET_CAP) for key in sorted(self.pending_bands) if key not in self.full],
        )

    def close(self) -> None:
        self.flush()

    def next_generation(self) -> None:
        """Start a new generation, as a new run does: template shingles and full buckets learned so far apply."""
        self.flush()
        with self.db.conn:
            self.generation = self.db.execute("INSERT INTO near_duplicate_runs (started) VALUES (datetime('now'))").lastrowid


def sampled_hashes(hashes: np.ndarray) -> np.ndarray:
    """The shingle hashes the template guard counts and compares: one in COUNT_SAMPLE, chosen by value."""
    return hashes[hashes % np.uint32(COUNT_SAMPLE) == 0]


def _repair_story_ids(db: Database) -> list[int]:
    """Articles whose story_id is NULL or text (edited by hand: the sqlite3 shell accepts 'abc' in an INTEGER
    column) become stories of their own, so that deciding stories never meets a story it cannot order and
    the stories view and --one-per-story keep them. Two index range reads (NULLs, then values that sort as
    text or blob), not a scan."""
    ids = sorted(row[0] for row in db.execute("SELECT id FROM articles WHERE story_id IS NULL OR story_id >= ''"))
    if ids:
        with db.atomic():
            db.conn.executemany("UPDATE articles SET story_id = id, story_match = NULL, story_similarity = NULL"
                                " WHERE id = ?", [(article_id,) for article_id in ids])
    return ids


def _drop_unwritten(db: Database) -> int:
    """Index rows of articles a killed run indexed but never wrote: ids above the last written article's
    (batches are written in id order), so the next run, which gives those ids again, does not inherit
    their old texts' band rows. Range reads on the primary keys; the band rows from each signature."""
    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0]
    rows = db.execute("SELECT article_id, signature FROM near_duplicate_signatures WHERE article_id > ?", [top]).fetchall()
    if not rows:
        return 0
    with db.atomic():
        db.conn.executemany("DELETE FROM near_duplicate_bands WHERE band_key = ? AND article_id = ?",
                            sorted((key, article_id) for article_id, data in rows
                                   for key in Signature.from_bytes(data).band_keys()))
        db.execute("DELETE FROM near_duplicate_signatures WHERE article_id > ?", [top])
        db.execute("DELETE FROM near_duplicate_pairs WHERE article_id > ?", [top])
    return len(rows)


def open_index(db: Database, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 200) -> NearDuplicateIndex:
    """Apply this module's migrations, index the articles stored since the last write, return the index.

    Articles above the highest indexed id are read back (a new archive, or one
    written by a tool that does not index): normally none. A change of PARAMS
    (another band layout, shingle size or MinHash scheme) rebuilds the index.
    """
    migrations.apply(db)
    stored = {row[0]: row[1] for row in db.execute("SELECT name, value FROM near_duplicate_params")}
    wanted = {name: str(value) for name, value in PARAMS.items()}
    # an index some run opened before with these parameters: articles it has no rows for were written by a
    # run killed before its index batch (even the first run into a new archive), not by a tool that does not index
    opened_before = stored == wanted and db.execute("SELECT 1 FROM near_duplicate_runs LIMIT 1").fetchone() is not None
    if stored != wanted:
        if stored:
            logger.warning("Near-duplicate index parameters changed (%s → %s): rebuilding it", stored, wanted)
        with db.conn:
            db.execute("DELETE FROM near_duplicate_bands")
            db.execute("DELETE FROM near_duplicate_signatures")
            db.execute("DELETE FROM near_duplicate_params")
            for table in ("near_duplicate_shingle_counts", "near_duplicate_common", "near_duplicate_full_bands"):
                db.execute(f"DELETE FROM {table}")
            db.conn.executemany("INSERT INTO near_duplicate_params (name, value) VALUES (?, ?)", wanted.items())
    # imported here: pipelines.similarity.stories imports this module's constants
    from pipelines.similarity.stories import resolve_stories

    repaired = _repair_story_ids(db)
    if repaired:
        logger.warning("Articles %s had a story_id that is not an article id (a hand edit?): each is a story of its own"
                       " again", ", ".join(map(str, repaired[:20])) + (" …" if len(repaired) > 20 else ""))
    left = resolve_stories(db)  # a run killed before its end: its written articles' pairs
    if left.runs:
        logger.info("Stories of %s unfinished run(s) decided: %s of %s verified pairs joined", left.runs, left.kept, left.pairs)
    dropped = _drop_unwritten(db)
    if dropped:
        logger.info("Near-duplicate index: %s entries of articles never written (a run killed before its batch) dropped", dropped)
    with db.conn:
        generation = db.execute("INSERT INTO near_duplicate_runs (started) VALUES (datetime('now'))").lastrowid
    index = NearDuplicateIndex(db, threshold, batch_size, generation)
    last = db.execute("SELECT COALESCE(MAX(article_id), 0) FROM near_duplicate_signatures").fetchone()[0]
    # articles a killed run wrote before their index rows: their pairs are proposed as on arrival (in id
    # order, each against those before it), so they join the stories a clean run gives them; a whole
    # index built anew (an archive from before the index, changed parameters) only indexes: no archived
    # story is redrawn
    catching_up = opened_before or last > 0
    added = 0
    while True:
        rows = db.execute("SELECT id, text FROM articles WHERE id > ? ORDER BY id LIMIT 500", [last]).fetchall()
        if not rows:
            break
        for article_id, text in rows:
            sig = signature(text or "")
            if catching_up:
                index.propose(article_id, sig)
            index.add(article_id, sig)
        added += len(rows)
        last = rows[-1][0]
    index.flush()
    if added:
        logger.info("Near-duplicate index: %s archived articles indexed", added)
        if catching_up:
            resolve_stories(db)  # this generation's pairs: decided as their run's end would have
        # what they taught is an earlier run's (a run killed after its articles, before its index): it applies now
        index.next_generation()
    return index
