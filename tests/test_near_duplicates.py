"""MinHash-LSH near-duplicates: signatures, verification, and the index kept in a real SQLite archive."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from pipelines.similarity import near_duplicates as nd
from pipelines.archive.database import open_archive
from pipelines.similarity.near_duplicates import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    open_index,
    shingles,
    signature,
)

SITE_BUILD = Path(__file__).resolve().parent / "sites" / "dedup" / "build.py"


@pytest.fixture(scope="module")
def site():
    """The stories of the dedup test site (tests/sites/dedup/build.py)."""
    spec = importlib.util.spec_from_file_location("dedup_site_build", SITE_BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def test_shingles_are_normalized_word_runs():
    assert shingles("قال الوزيرُ إنّ الإرهاب، خطر.") == {"قال الوزير ان", "الوزير ان الارهاب", "ان الارهاب خطر"}
    assert shingles("كلمتان فقط") == {"كلمتان فقط"}
    assert shingles("") == set() and shingles("؟ ، .") == set()


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_shingles_of_are_the_sliced_word_runs(size):
    from pipelines.similarity.minhash import shingles_of

    for count in range(9):
        words = [f"ك{n % 4}" for n in range(count)]  # repeated words: repeated shingles
        expected = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)} if count > size else (
            {" ".join(words)} if words else set()
        )
        assert shingles_of(words, size) == expected


def test_signature_equals_datasketch_minhash(site):
    """Our numpy MinHash is datasketch's: signatures stored by either agree, bit for bit."""
    datasketch = pytest.importorskip("datasketch")
    texts = [text(story) for story in (site.A, site.B, site.C, site.D, site.E, site.B_REPUBLISHED)]
    texts += ["كلمتان فقط", "واحدة", "", "١٢٣ ٤٥٦ abc DEF", "قال الوزيرُ إنّ الإرهاب، خطر."]
    for sample in texts:
        grams = shingles(sample)
        reference = datasketch.MinHash(num_perm=nd.NUM_PERM, seed=nd.SEED, scheme=nd.SCHEME)
        reference.update_batch([gram.encode("utf-8") for gram in grams])
        ours = signature(sample)
        assert ours.values.dtype == "uint32" and ours.shingles == len(grams)
        assert ours.values.tolist() == reference.hashvalues.astype("uint32").tolist(), sample[:40]


def test_spelling_and_punctuation_variants_are_identical(site):
    original = signature(text(site.C))
    assert original.similarity(signature(text(site.C_SPELLING))) == 1.0
    punctuated = text(site.C).replace("،", " ,").replace(".", "؛")
    assert original.similarity(signature(punctuated)) == 1.0


def test_republished_wire_story_is_near_and_other_stories_are_not(site):
    wire = signature(text(site.B))
    assert wire.similarity(signature(text(site.B_REPUBLISHED))) >= DEFAULT_THRESHOLD
    assert wire.similarity(signature(text(site.B_DAY2))) >= DEFAULT_THRESHOLD
    stories = [site.A, site.B, site.C, site.D, site.E]
    for i, first in enumerate(stories):
        for second in stories[i + 1 :]:
            assert signature(text(first)).similarity(signature(text(second))) < 0.2


def test_five_seed_pages_on_one_subject_stay_apart(shared_dir, tmp_path):
    """The five seed pages are all about counter-terrorism cooperation: five stories, not one."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "seeds").glob("*.txt"))]
    assert len(texts) == 5
    index = NearDuplicateIndex(Database(memory=True), DEFAULT_THRESHOLD)
    nd.migrations.apply(index.db)
    for number, page in enumerate(texts, start=1):
        sig = signature(page)
        assert index.find(sig) is None, f"seed page {number} merged with another"
        index.add(number, sig)
    assert max(signature(a).similarity(signature(b)) for a in texts for b in texts if a is not b) < 0.15


def test_index_finds_verifies_and_persists(site, tmp_path):
    path = tmp_path / "archive.db"
    db = open_archive(path)
    index = open_index(db, DEFAULT_THRESHOLD, batch_size=2)
    for article_id, story in enumerate([site.A, site.B, site.C], start=1):
        assert index.find(signature(text(story))) is None
        index.add(article_id, signature(text(story)))
    match = index.find(signature(text(site.B_REPUBLISHED)))  # the third add is still pending
    assert match is not None and match[0] == 2 and match[1] >= DEFAULT_THRESHOLD
    assert index.find(signature(text(site.D))) is None
    index.close()
    db["articles"].insert_all([{"id": i, "url": f"http://x.test/{i}"} for i in (1, 2, 3)])  # the articles it names
    db.close()

    # tomorrow's crawl: a new connection finds today's articles without reading any text back
    db = open_archive(path)
    assert db["near_duplicate_signatures"].count == 3
    assert db["near_duplicate_bands"].count == 3 * nd.BANDS
    index = open_index(db, DEFAULT_THRESHOLD)
    assert index.find(signature(text(site.B_DAY2)))[0] == 2
    assert index.find(signature(text(site.C_SPELLING))) == (3, 1.0)
    assert index.find(signature(text(site.E))) is None
    db.close()


def test_threshold_is_applied_after_lsh(site):
    db = Database(memory=True)
    nd.migrations.apply(db)
    strict = NearDuplicateIndex(db, threshold=0.99)
    strict.add(1, signature(text(site.B)))
    copy = signature(text(site.B_REPUBLISHED))
    assert [article_id for article_id, _ in strict.candidates(copy)] == [1]  # LSH proposes it...
    assert strict.find(copy) is None  # ...verification refuses it
    strict.flush()
    assert NearDuplicateIndex(db, threshold=0.5).find(copy)[0] == 1


def test_replace_reindexes_an_article(site, tmp_path):
    db = open_archive(tmp_path / "archive.db")
    index = open_index(db)
    index.add(7, signature(text(site.A)))
    index.flush()
    index.replace(7, signature(text(site.D)))
    index.flush()
    assert index.find(signature(text(site.A))) is None
    assert index.find(signature(text(site.D))) == (7, 1.0)
    assert db.execute("SELECT COUNT(*) FROM near_duplicate_bands WHERE article_id = 7").fetchone()[0] == nd.BANDS
    db.close()


def test_articles_stored_without_a_signature_are_indexed_at_open(site, tmp_path):
    """An archive from before this index, or written by another tool: its articles are indexed once."""
    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert_all([{"id": 1, "url": "http://x/1", "text": text(site.B)},
                               {"id": 2, "url": "http://x/2", "text": text(site.D)}])
    index = open_index(db)
    assert db["near_duplicate_signatures"].count == 2
    assert index.find(signature(text(site.B_REPUBLISHED)))[0] == 1
    db["articles"].insert({"id": 3, "url": "http://x/3", "text": text(site.E)})
    open_index(db)
    assert db["near_duplicate_signatures"].count == 3
    db.close()


def test_changed_parameters_rebuild_the_index(site, tmp_path, monkeypatch):
    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert({"id": 1, "url": "http://x/1", "text": text(site.A)})
    open_index(db)
    monkeypatch.setitem(nd.PARAMS, "tokens", "another tokenizer")
    index = open_index(db)
    assert dict(db.execute("SELECT name, value FROM near_duplicate_params").fetchall())["tokens"] == "another tokenizer"
    assert db["near_duplicate_signatures"].count == 1
    assert index.find(signature(text(site.A))) == (1, 1.0)
    db.close()


def test_empty_text_is_never_a_duplicate():
    db = Database(memory=True)
    nd.migrations.apply(db)
    index = NearDuplicateIndex(db)
    empty = signature("")
    assert empty.shingles == 0
    index.add(1, empty)
    assert index.find(empty) is None and not index.pending


def test_band_keys_are_stable_across_processes(site):
    """Keys are stored and compared across runs: they must not depend on the process or its hash seed."""
    sample = text(site.A)
    keys = signature(sample).band_keys()
    assert len(keys) == nd.BANDS == len(set(keys))
    assert all(-(2**63) <= key < 2**63 for key in keys)
    code = "import sys; from pipelines.similarity.near_duplicates import signature; print(signature(sys.stdin.read()).band_keys())"
    for seed in ("1", "2"):
        other = subprocess.run([sys.executable, "-c", code], input=sample, capture_output=True, text=True, check=True,
                               cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "PYTHONHASHSEED": seed})
        assert other.stdout.strip() == str(keys)


def test_band_keys_from_the_worker_equal_the_index_own(site):
    """The extraction worker ships the band keys with the signature; the index computes them the same way."""
    from pipelines.similarity.minhash import Signature, band_keys
    from pipelines.text.normalize import tokens
    from pipelines.extraction.records import fingerprints

    computed = fingerprints("عنوان", tokens(text(site.A)))
    fresh = Signature.from_bytes(computed["minhash"], computed["shingles"])
    assert computed["bands"] == fresh.band_keys() == tuple(band_keys(fresh.values))
    shipped = Signature.from_bytes(computed["minhash"], computed["shingles"], computed["bands"])
    assert (shipped.values == fresh.values).all() and shipped.band_keys() is computed["bands"]


@pytest.mark.parametrize(
    "words",
    [[], ["واحدة"], ["قال", "الوزير"], ["قال", "الوزير", "ان", "الارهاب", "خطر", "قال", "الوزير", "ان"], ["a b", "c", "d", "e"], ["", "x", "", "y"]],
)
def test_signature_of_hashes_the_shingles_minhash_values_hashes(words):
    """signature_of shingles UTF-8 bytes encoded once for the text: the same values and count as from the str shingles."""
    from pipelines.similarity.minhash import minhash_values, shingles_of, signature_of

    grams = shingles_of(words)
    ours = signature_of(words)
    assert ours.shingles == len(grams)
    assert ours.values.tolist() == minhash_values(grams).tolist()
