"""The template guard: recurring reports that share a template do not chain into one story, from the first run on.

A family of reports shares a long template and each report adds a few words of
its own: pairs of them reach the Jaccard threshold on the template alone. The
index records the verified pairs; when the run ends (pipelines/similarity/stories.py)
the pairs sharing template text only, counted over the whole run, are refused, so
the first run into an empty archive is guarded and the stories do not depend on the
order pages arrive in, while a true copy of one report joins it.
Real SQLite files, the index's own batched writes (more batches than one).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pipelines.archive.database import open_archive
from pipelines.similarity import near_duplicates as nd
from pipelines.similarity.near_duplicates import open_index, sampled_hashes, signature
from pipelines.similarity.stories import resolve_stories

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


def _one_run(db_path, texts: list[str], order: list[int]) -> tuple[dict[int, int], object]:
    """Index the texts in ``order`` in ONE run into an empty archive (article id = position + 1), write them
    as a crawl's storage does, end the run; each text's story, by position, and what the decision counted."""
    db = open_archive(db_path)
    index = open_index(db, batch_size=16)
    for n in order:
        sig = signature(texts[n])
        index.propose(n + 1, sig)
        index.add(n + 1, sig)
    index.close()
    db["articles"].insert_all([{"id": n + 1, "url": f"http://x.test/{n}", "text": texts[n], "story_id": n + 1}
                               for n in order])
    done = resolve_stories(db)
    stories = {row[0] - 1: row[1] for row in db.execute("SELECT id, story_id FROM articles")}
    return stories, done


def _partition(stories: dict[int, int]) -> set[frozenset]:
    groups: dict[int, set] = {}
    for n, story in stories.items():
        groups.setdefault(story, set()).add(n)
    return {frozenset(group) for group in groups.values()}


def test_the_first_run_into_an_empty_archive_does_not_chain_reports(tmp_path):
    """No earlier run learned the template: the whole run's counts do. No report joins another; the true
    copy of report 5 joins report 5's story; more batches than one, reports above both caps."""
    assert REPORTS > max(nd.COMMON_ARTICLES, nd.BUCKET_CAP)
    texts = [report(i) for i in range(REPORTS)] + [report(5) + " " + words(9000, 3)]
    assert signature(texts[0]).jaccard(signature(texts[1])) >= nd.DEFAULT_THRESHOLD  # pairs pass the threshold...
    stories, done = _one_run(tmp_path / "archive.db", texts, list(range(len(texts))))
    partition = _partition(stories)
    assert frozenset((5, REPORTS)) in partition  # the copy is in its report's story
    assert len(partition) == REPORTS  # ...and no two reports are: template text only
    assert done.runs == 1 and done.kept >= 1 and done.template_refused + done.bucket_refused > 0
    db = open_archive(tmp_path / "archive.db")
    assert db.execute("SELECT resolved FROM near_duplicate_runs").fetchall() == [(1,)]
    assert db.execute("SELECT COUNT(*) FROM near_duplicate_pairs WHERE shared_sampled IS NOT NULL").fetchone() == (0,)

    # the counts summed over the batches are those of the texts
    expected = Counter(h for text in texts for h in sampled_hashes(signature(text).hashes).tolist())
    assert dict(db.execute("SELECT hash, articles FROM near_duplicate_shingle_counts").fetchall()) == dict(expected)
    common = {row[0] for row in db.execute("SELECT hash FROM near_duplicate_common")}
    assert common == {h for h, n in expected.items() if n >= nd.COMMON_ARTICLES}
    assert not common & set(sampled_hashes(signature(words(1000, 20 * REPORTS)).hashes).tolist())


def test_the_same_run_in_two_orders_gives_the_same_stories(tmp_path):
    """Decided from the whole run: a report early in one order and late in the other is treated alike."""
    texts = [report(i) for i in range(REPORTS)] + [report(7) + " " + words(9100, 4), report(30) + " " + words(9200, 2)]
    partitions = []
    for seed in (1, 2):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        stories, _ = _one_run(tmp_path / f"order-{seed}.db", texts, order)
        partitions.append(_partition(stories))
    assert partitions[0] == partitions[1]
    assert {frozenset((7, REPORTS)), frozenset((30, REPORTS + 1))} <= partitions[0]


def test_a_run_killed_before_its_end_is_decided_at_the_next_open(tmp_path):
    """The pairs of a run that never ended stay undecided; the next open_index decides them, for the
    articles that were written (an indexed id without its article joins nothing)."""
    db = open_archive(tmp_path / "archive.db")
    index = open_index(db, batch_size=4)
    texts = [report(3), report(3) + " " + words(9000, 3), report(4) + " " + words(9100, 3)]
    for n, text in enumerate(texts):
        sig = signature(text)
        index.propose(n + 1, sig)
        index.add(n + 1, sig)
    index.flush()  # the index's batch committed; only articles 1 and 2 were written before the kill
    db["articles"].insert_all([{"id": n + 1, "url": f"http://x.test/{n}", "text": texts[n], "story_id": n + 1} for n in (0, 1)])
    assert db.execute("SELECT resolved FROM near_duplicate_runs").fetchall() == [(0,)]
    assert db.execute("SELECT story_id FROM articles WHERE id = 2").fetchone() == (2,)
    assert db.execute("SELECT COUNT(*) FROM near_duplicate_bands WHERE article_id = 3").fetchone()[0] == nd.BANDS
    second = open_index(open_archive(tmp_path / "archive.db"))
    assert second.db.execute("SELECT id, story_id, story_match FROM articles ORDER BY id").fetchall() == [(1, 1, None), (2, 1, 1)]
    assert second.db.execute("SELECT resolved FROM near_duplicate_runs ORDER BY generation").fetchall() == [(1,), (0,)]
    # article 3 was indexed, never written: its index rows are gone, so the id the next article gets starts clean
    for table in ("near_duplicate_signatures", "near_duplicate_bands", "near_duplicate_pairs"):
        assert second.db.execute(f"SELECT COUNT(*) FROM {table} WHERE article_id = 3").fetchone() == (0,), table
    assert second.db.execute("SELECT COUNT(*) FROM near_duplicate_signatures").fetchone() == (2,)
    assert 3 not in [article_id for article_id, _ in second.matches(signature(texts[2]))]  # no candidate any more
    second.close()


def _index_on_arrival(index, texts: list[str]) -> None:
    """What a run's dedup does for each new article (ids 1, 2, ...): propose its pairs, index it; then the batch."""
    for n, text in enumerate(texts):
        sig = signature(text)
        index.propose(n + 1, sig)
        index.add(n + 1, sig)
    index.flush()


@pytest.mark.parametrize("indexed", [2, 0], ids=["some-indexed", "first-run-none-indexed"])
def test_articles_written_before_their_index_batch_join_their_stories_at_the_next_open(tmp_path, indexed):
    """A kill after the storage batch, before the index's (the index writes every ARSHIF_NEAR_INDEX_BATCH,
    storage every ARSHIF_BATCH_SIZE): the next open indexes those articles and proposes their pairs as on
    arrival, so they join the stories a clean run gives them (an add-only catch-up left them stories of
    their own for good). With none indexed: the first crawl into a new archive killed before its first
    index batch, which the catch-up once took for an index to build anew, without pairs."""
    texts = [report(3), report(3) + " " + words(9000, 3), report(4) + " " + words(9100, 3), words(9500, 80),
             words(9500, 80) + " " + words(9700, 4)]
    clean = open_archive(tmp_path / "clean.db")
    _index_on_arrival(open_index(clean), texts)
    clean["articles"].insert_all([{"id": n + 1, "url": f"http://x.test/{n}", "text": text, "story_id": n + 1}
                                  for n, text in enumerate(texts)])
    resolve_stories(clean)
    expected = clean.execute("SELECT id, story_id, story_match FROM articles ORDER BY id").fetchall()
    assert len({story for _, story, _ in expected}) < len(texts)  # the texts do make stories

    killed = open_archive(tmp_path / "killed.db")
    _index_on_arrival(open_index(killed), texts[:indexed])  # the first articles indexed; all written, the rest's batch never
    killed["articles"].insert_all([{"id": n + 1, "url": f"http://x.test/{n}", "text": text, "story_id": n + 1}
                                   for n, text in enumerate(texts)])
    second = open_index(open_archive(tmp_path / "killed.db"))
    assert second.db.execute("SELECT id, story_id, story_match FROM articles ORDER BY id").fetchall() == expected
    assert second.db.execute("SELECT COUNT(*) FROM near_duplicate_runs WHERE resolved = 0").fetchone() == (1,)  # the new run's
    second.close()


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


def test_a_story_id_edited_by_hand_into_text_or_null_does_not_stop_later_runs(tmp_path, caplog):
    """The sqlite3 shell accepts story_id = 'abc' in the INTEGER column: deciding stories then compared text
    with integers and every later run failed at open. The next open makes such articles stories of their own
    (and says which), and a near copy of one of them still joins it."""
    import sqlite3

    texts = [words(9500, 80), words(20000, 80), words(30000, 80)]
    db = open_archive(tmp_path / "archive.db")
    _index_on_arrival(open_index(db), texts)
    db["articles"].insert_all([{"id": n + 1, "url": f"http://x.test/{n}", "text": text, "story_id": n + 1}
                               for n, text in enumerate(texts)])
    resolve_stories(db)
    db.close()
    with sqlite3.connect(tmp_path / "archive.db") as shell:
        shell.execute("UPDATE articles SET story_id = 'abc' WHERE id = 1")
        shell.execute("UPDATE articles SET story_id = NULL WHERE id = 2")
    shell.close()
    db = open_archive(tmp_path / "archive.db")
    index = open_index(db)
    assert "Articles 1, 2 had a story_id that is not an article id" in caplog.text
    assert db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == [(1, 1), (2, 2), (3, 3)]
    copy = texts[0] + " " + words(40000, 3)
    sig = signature(copy)
    index.propose(4, sig)
    index.add(4, sig)
    index.close()
    db["articles"].insert({"id": 4, "url": "http://x.test/copy", "text": copy, "story_id": 4})
    resolve_stories(db)
    assert db.execute("SELECT story_id FROM articles WHERE id = 4").fetchone() == (1,)


def test_a_replaced_text_is_uncounted_so_each_text_counts_once(tmp_path):
    """An article whose text is replaced (a better-ranked copy takes its id in the same run, an edit under
    --refresh) once kept its old text's sampled shingles counted beside the new one's, so template counts
    grew with every replacement and the guard could call a story's own text template."""
    db = open_archive(tmp_path / "archive.db")
    index = open_index(db)
    old, new, other = words(100, 300), words(5000, 300), words(100, 150) + " " + words(9000, 150)
    for article_id, text in ((1, old), (2, other)):
        index.add(article_id, signature(text))
    index.flush()
    index.replace(1, signature(new))
    index.flush()
    expected = Counter(sampled_hashes(signature(new).hashes).tolist()) + Counter(sampled_hashes(signature(other).hashes).tolist())
    counted = dict(db.execute("SELECT hash, articles FROM near_duplicate_shingle_counts WHERE articles > 0"))
    assert counted == dict(expected)
