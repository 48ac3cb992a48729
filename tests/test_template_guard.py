"""The near-duplicate index's template guard: recurring reports that share a template do not chain into one story.

A family of reports shares a long template and each report adds a few words of
its own: pairs of them reach the Jaccard threshold on the template alone. The
first run indexes them (and, not knowing the template yet, still matches them:
what a run learns applies from the next run, so no decision depends on the
order pages arrive in); the next run refuses a new report of the family, finds a
true copy of one report, and skips the LSH buckets the family over-filled.
Real SQLite files, the index's own batched writes (more batches than one).
"""

from __future__ import annotations

import random
from collections import Counter

from pipelines.archive.database import open_archive
from pipelines.similarity import near_duplicates as nd
from pipelines.similarity.near_duplicates import open_index, sampled_hashes, signature

LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
REPORTS = 120  # above COMMON_ARTICLES and BUCKET_CAP, and several batches of 16


def word(n: int) -> str:
    """A distinct Arabic letter string for each n (digits would be folded by the normalizer)."""
    letters = []
    for _ in range(3):
        n, rest = divmod(n, len(LETTERS))
        letters.append(LETTERS[rest])
    return "".join(letters)


def words(start: int, count: int) -> str:
    return " ".join(word(n) for n in range(start, start + count))


TEMPLATE = words(0, 100)  # the family's fixed sentences


def report(i: int) -> str:
    """The template and 20 words of the report's own (distinct from every other report's)."""
    return f"{TEMPLATE} {words(1000 + 20 * i, 20)}"


def test_reports_chain_in_the_run_that_learns_the_template_and_not_after(tmp_path):
    assert REPORTS > max(nd.COMMON_ARTICLES, nd.BUCKET_CAP)
    db_path = tmp_path / "archive.db"
    first = open_index(open_archive(db_path), batch_size=16)
    joined_first = 0
    for i in range(REPORTS):
        sig = signature(report(i))
        joined_first += bool(first.matches(sig))
        first.add(i + 1, sig)
    first.close()
    # every report after the first reaches the threshold on the template and, in this run, is matched
    assert joined_first == REPORTS - 1 and first.template_refused == 0 and first.buckets_skipped == 0
    db = first.db
    assert nd.sampled_hashes(signature(TEMPLATE).hashes).size  # the template has counted shingles
    assert {row[0] for row in db.execute("SELECT DISTINCT generation FROM near_duplicate_common")} == {first.generation}
    assert db.execute("SELECT COUNT(*) FROM near_duplicate_full_bands").fetchone()[0] > 0

    # the counts summed over the batches are those of the texts
    expected = Counter(h for i in range(REPORTS) for h in sampled_hashes(signature(report(i)).hashes).tolist())
    stored = dict(db.execute("SELECT hash, articles FROM near_duplicate_shingle_counts").fetchall())
    assert stored == dict(expected)
    common = {row[0] for row in db.execute("SELECT hash FROM near_duplicate_common")}
    assert common == {h for h, n in expected.items() if n >= nd.COMMON_ARTICLES}
    own = set(sampled_hashes(signature(words(1000, 20 * REPORTS)).hashes).tolist())
    assert not common & own

    second = open_index(open_archive(db_path))
    assert second.generation == first.generation + 1
    new_report = signature(report(REPORTS))
    assert new_report.jaccard(signature(report(0))) >= nd.DEFAULT_THRESHOLD  # the pair passes the threshold...
    assert second.matches(new_report) == []  # ...and is refused: template text only
    assert second.template_refused >= 1 and second.buckets_skipped > 0

    copy = signature(report(5) + " " + words(9000, 3))  # a true copy: an update of report 5
    found = second.matches(copy)
    assert [article_id for article_id, _ in found] == [6]
    second.close()


def test_decisions_within_a_run_do_not_depend_on_the_order(tmp_path):
    """The same pages indexed in two orders in a run that learns the template: the same verified pairs."""
    texts = [report(i) for i in range(REPORTS)] + [report(7) + " " + words(9100, 4)]
    pairs = []
    for seed in (1, 2):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        index = open_index(open_archive(tmp_path / f"order-{seed}.db"), batch_size=16)
        found = set()
        for n in order:
            sig = signature(texts[n])
            found |= {frozenset((n, article_id - 1)) for article_id, _ in index.matches(sig)}
            index.add(n + 1, sig)
        index.close()
        pairs.append(found)
    assert pairs[0] == pairs[1] and frozenset((7, REPORTS)) in pairs[0]


def test_a_rebuilt_index_forgets_its_counts(tmp_path, monkeypatch):
    """Changed parameters rebuild the index from the articles: the counts and stamps are made again, not doubled."""
    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert_all([{"id": i + 1, "url": f"http://x/{i}", "text": report(i)} for i in range(30)])
    open_index(db).close()
    before = db.execute("SELECT SUM(articles) FROM near_duplicate_shingle_counts").fetchone()[0]
    assert before == sum(len(sampled_hashes(signature(report(i)).hashes)) for i in range(30))
    monkeypatch.setitem(nd.PARAMS, "tokens", "another tokenizer")
    open_index(db).close()
    assert db.execute("SELECT SUM(articles) FROM near_duplicate_shingle_counts").fetchone()[0] == before
