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
it at or above 0.5 about one time in twenty. Nothing is loaded at start-up except the signatures
of articles stored since the index was last written (normally none), so the
cost of a lookup depends on the number of candidates, not on the archive size.
New entries are buffered in memory and written in short transactions.

With BANDS=32 and ROWS=4, a pair of texts becomes a candidate with probability
1 - (1 - J^4)^32: 0.87 at J = 0.5, 0.99 at J = 0.6, 0.9998 at J = 0.7. The band
layout is fixed (recorded in ``near_duplicate_params``) so the threshold can be
changed between crawls without rebuilding the index; thresholds below 0.5 lose
candidates.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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

DEFAULT_THRESHOLD = 0.6  # exact Jaccard; measured on bench/dedup/hard.py: see bench/dedup/README.md
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


_EXIT_AFTER_WRITES = int(os.environ.get("ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES") or 0)  # tests only: kill -9 here
_writes = 0


def _exit_point() -> None:
    """Tests only (ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES=N): the process dies as kill -9 would, without
    commit or cleanup, right after its Nth index write (committed, or uncommitted inside a caller's transaction)."""
    global _writes
    _writes += 1
    if _EXIT_AFTER_WRITES and _writes >= _EXIT_AFTER_WRITES:
        os._exit(137)


class NearDuplicateIndex:
    """The archive's MinHash-LSH index: ``matches`` verified by exact Jaccard, ``add`` a stored article."""

    def __init__(self, db: Database, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 200):
        self.db = db
        self.threshold = threshold
        self.batch_size = max(1, batch_size)
        self.pending: dict[int, Signature] = {}  # article id → signature, not yet written
        self.pending_bands: dict[int, set[int]] = defaultdict(set)  # band key → article ids
        self.replaced: set[int] = set()  # written articles whose signature changes at the next flush
        self.candidates_checked = 0
        self.estimate_accepted = 0  # candidates whose MinHash estimate reaches the threshold (the old decision)
        self.exact_accepted = 0  # candidates whose exact Jaccard reaches it (the decision)
        self.estimate_only = 0  # accepted by the estimate, refused by exact Jaccard: what the old code got wrong

    # -- lookups --------------------------------------------------------------

    def matches(self, sig: Signature, exclude: int | None = None) -> list[tuple[int, float]]:
        """Every indexed article whose exact Jaccard similarity reaches the threshold, as (id, similarity),
        most similar first (ties: the lowest id)."""
        if not sig.shingles:
            return []
        found = []
        for article_id, other in self.candidates(sig):
            if article_id == exclude:
                continue
            self.candidates_checked += 1
            estimated = sig.similarity(other) >= self.threshold
            similarity = sig.jaccard(other)
            self.estimate_accepted += estimated
            if similarity >= self.threshold:
                self.exact_accepted += 1
                found.append((article_id, similarity))
            else:
                self.estimate_only += estimated
        return sorted(found, key=lambda match: (-match[1], match[0]))

    def find(self, sig: Signature, exclude: int | None = None) -> tuple[int, float] | None:
        """The most similar verified match (``matches``), or None."""
        found = self.matches(sig, exclude)
        return found[0] if found else None

    def candidates(self, sig: Signature) -> list[tuple[int, Signature]]:
        """Articles sharing at least one band with ``sig``, with their current signatures."""
        keys = sig.band_keys()
        found: dict[int, Signature] = {}
        for key in keys:
            for article_id in self.pending_bands.get(key, ()):
                found[article_id] = self.pending[article_id]
        marks = ",".join("?" * len(keys))
        stored = [
            row[0]
            for row in self.db.execute(f"SELECT DISTINCT article_id FROM near_duplicate_bands WHERE band_key IN ({marks})", keys)
            if row[0] not in found
        ]
        for start in range(0, len(stored), 500):
            chunk = stored[start : start + 500]
            rows = self.db.execute(
                "SELECT article_id, signature, shingles, shingle_hashes FROM near_duplicate_signatures"
                f" WHERE article_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for article_id, data, count, hashes in rows:
                found[article_id] = self.pending.get(article_id) or Signature.from_bytes(data, count, hashes=hashes)
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
        if not self.pending and not self.replaced:
            return
        with self.db.atomic():  # nested in a caller's transaction (arshif merge): a savepoint, committed with it
            for article_id in self.replaced:
                row = self.db.execute(
                    "SELECT signature FROM near_duplicate_signatures WHERE article_id = ?", [article_id]
                ).fetchone()
                if row:
                    self.db.conn.executemany(
                        "DELETE FROM near_duplicate_bands WHERE band_key = ? AND article_id = ?",
                        [(key, article_id) for key in Signature.from_bytes(row[0]).band_keys()],
                    )
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO near_duplicate_signatures (article_id, signature, shingles, shingle_hashes)"
                " VALUES (?, ?, ?, ?)",
                [(article_id, sig.to_bytes(), sig.shingles, sig.hashes_bytes()) for article_id, sig in self.pending.items()],
            )
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO near_duplicate_bands (band_key, article_id) VALUES (?, ?)",
                [(key, article_id) for key, ids in self.pending_bands.items() for article_id in ids],
            )
        _exit_point()  # after the index's own commit, or inside the caller's transaction that holds it
        self.pending.clear()
        self.pending_bands.clear()
        self.replaced.clear()

    def close(self) -> None:
        self.flush()


def open_index(db: Database, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 200) -> NearDuplicateIndex:
    """Apply this module's migrations, index the articles stored since the last write, return the index.

    Articles above the highest indexed id are read back (a new archive, or one
    written by a tool that does not index): normally none. A change of PARAMS
    (another band layout, shingle size or MinHash scheme) rebuilds the index.
    """
    migrations.apply(db)
    stored = {row[0]: row[1] for row in db.execute("SELECT name, value FROM near_duplicate_params")}
    wanted = {name: str(value) for name, value in PARAMS.items()}
    if stored != wanted:
        if stored:
            logger.warning("Near-duplicate index parameters changed (%s → %s): rebuilding it", stored, wanted)
        with db.conn:
            db.execute("DELETE FROM near_duplicate_bands")
            db.execute("DELETE FROM near_duplicate_signatures")
            db.execute("DELETE FROM near_duplicate_params")
            db.conn.executemany("INSERT INTO near_duplicate_params (name, value) VALUES (?, ?)", wanted.items())
    index = NearDuplicateIndex(db, threshold, batch_size)
    last = db.execute("SELECT COALESCE(MAX(article_id), 0) FROM near_duplicate_signatures").fetchone()[0]
    added = 0
    while True:
        rows = db.execute("SELECT id, text FROM articles WHERE id > ? ORDER BY id LIMIT 500", [last]).fetchall()
        if not rows:
            break
        for article_id, text in rows:
            index.add(article_id, signature(text or ""))
        added += len(rows)
        last = rows[-1][0]
    index.flush()
    if added:
        logger.info("Near-duplicate index: %s archived articles indexed", added)
    return index
