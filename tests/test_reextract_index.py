"""After `arshif reextract` the near-duplicate index describes the archive as it now is (issue 17).

A real crawl of tests/story_site.py (story clusters, templated reports) made by an older setup: the
templated reports were too short for it (ARSHIF_MIN_WORDS=150), then one story was edited (--refresh).
`arshif reextract` with the current settings brings the reports in. Its result is compared with a
fresh crawl of the same pages into an empty archive: the same articles must give the same stories,
the same verified pairs, template counts and over-full buckets, every run decided; a second reextract
changes nothing, and a crawl after it puts new copies into the right stories.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter

import numpy as np
import pytest
from sqlite_utils import Database

from crawler.demo.server import SiteServer
from pipelines.similarity.near_duplicates import COMMON_ARTICLES, COUNT_SAMPLE
from tests.conftest import archive_snapshot, copy_archive, crawl, run_arshif
from tests.story_site import EXTRA, build, pages

STORIES = 60
TEMPLATE_STORIES = 440  # 110 reports of each family: their template paragraphs reach COMMON_ARTICLES
EDIT = "<p>وأضافت الصحيفة في تحديث لاحق أن الاجتماع تأجل إلى الأسبوع المقبل بطلب من الوفود المشاركة.</p>\n</article>"


def index_tables(db_path, counted: bool = False) -> dict:
    """The index's tables other than bands, with ids read as URLs (order and ids may differ).

    ``counted``: the template counts and marks as the signatures imply (`counts_of`), not as stored."""
    with sqlite3.connect(db_path) as conn:
        url = dict(conn.execute("SELECT id, url FROM articles"))
        pairs = conn.execute("SELECT article_id, match_id, similarity FROM near_duplicate_pairs").fetchall()
        counts = counts_of(conn) if counted else dict(
            conn.execute("SELECT hash, articles FROM near_duplicate_shingle_counts WHERE articles > 0"))
        return {
            "pairs": {(frozenset((url.get(a, a), url.get(m, m))), s) for a, m, s in pairs},  # who proposed: arrival order
            "counts": counts,
            "common": {h for h, n in counts.items() if n >= COMMON_ARTICLES} if counted else
                      {h for (h,) in conn.execute("SELECT hash FROM near_duplicate_common")},
            "full": {k for (k,) in conn.execute("SELECT band_key FROM near_duplicate_full_bands")},
            "signatures": {(url.get(a, a), s) for a, s in conn.execute("SELECT article_id, signature FROM near_duplicate_signatures")},
        }


def all_rows(db_path) -> dict:
    """Every row a reextract may touch, ids and generations included."""
    with sqlite3.connect(db_path) as conn:
        tables = ["articles", "duplicates", "versions", "pages", "crawls", "near_duplicate_signatures", "near_duplicate_bands",
                  "near_duplicate_pairs", "near_duplicate_shingle_counts", "near_duplicate_common", "near_duplicate_full_bands",
                  "near_duplicate_runs"]
        rows = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in tables}
        rows["fts"] = conn.execute("SELECT rowid, title, text FROM articles_fts ORDER BY rowid").fetchall()
        return rows


def counts_of(conn) -> dict[int, int]:
    """In how many indexed texts each sampled shingle is: what `near_duplicate_shingle_counts` must hold."""
    expected = Counter()
    for (data,) in conn.execute("SELECT shingle_hashes FROM near_duplicate_signatures"):
        hashes = np.frombuffer(data or b"", dtype="<u4")
        expected.update(hashes[hashes % COUNT_SAMPLE == 0].tolist())
    return dict(expected)


def problems(db_path) -> list[str]:
    """What in the index does not describe the archive's articles."""
    found = []
    with sqlite3.connect(db_path) as conn:
        ids = {i for (i,) in conn.execute("SELECT id FROM articles")}
        dangling = [(a, m) for a, m in conn.execute("SELECT article_id, match_id FROM near_duplicate_pairs")
                    if a not in ids or m not in ids]
        if dangling:
            found.append(f"{len(dangling)} pairs name a missing article: {dangling[:3]}")
        unresolved = conn.execute("SELECT generation FROM near_duplicate_runs WHERE resolved = 0").fetchall()
        if unresolved:
            found.append(f"undecided runs {unresolved}")
        expected = counts_of(conn)
        counts = dict(conn.execute("SELECT hash, articles FROM near_duplicate_shingle_counts WHERE articles > 0"))
        if counts != dict(expected):
            wrong = sum(counts.get(h) != n for h, n in expected.items()) + len(set(counts) - set(expected))
            found.append(f"{wrong} of {len(expected)} sampled shingles miscounted")
    return found


@pytest.fixture(scope="module", params=[STORIES, pytest.param(TEMPLATE_STORIES, marks=pytest.mark.slow)])
def archives(request, tmp_path_factory):
    """The older archive, the same archive after `arshif reextract`, and a fresh crawl of the same pages."""
    base = tmp_path_factory.mktemp("reextract-index")
    root = base / "site"
    plan = build(root, request.param)
    # a story without AMP or tracking aliases: an alias fetched before the edit keeps the old text in the WARC
    # history the reextract replays (its own article, then), which a fresh crawl of the site as it is never sees
    aliased = {page.canonical for page in plan.pages if page.kind == "amp"} | set(plan.tracking_links.values())
    edited = next(page for page in plan.pages if page.kind == "story" and page.story % 4 == 3 and page.path not in aliased)
    old = base / "old" / "archive.db"
    with SiteServer(root) as server:
        run = crawl(str(root / "source.toml"), old, server.origin, "-s", "ARSHIF_BATCH_SIZE=10", "-s", "ARSHIF_MIN_WORDS=150")
        assert run.returncode == 0, run.stderr[-3000:]
        path = root / edited.path.lstrip("/")
        path.write_text(path.read_text(encoding="utf-8").replace("</article>", EDIT), encoding="utf-8")
        run = crawl(str(root / "source.toml"), old, server.origin, "-s", "ARSHIF_BATCH_SIZE=10", "-s", "ARSHIF_MIN_WORDS=150",
                    "--refresh")
        assert run.returncode == 0, run.stderr[-3000:]
        fresh = base / "fresh" / "archive.db"
        run = crawl(str(root / "source.toml"), fresh, server.origin, "-s", "ARSHIF_BATCH_SIZE=10")
        assert run.returncode == 0, run.stderr[-3000:]
        port = server.httpd.server_address[1]  # a later crawl of the same URLs serves from the same origin
    (base / "live").mkdir()
    live = copy_archive(old, base / "live" / "archive.db")
    shutil.copytree(old.parent / "warc", base / "live" / "warc")
    result = run_arshif("reextract", "--db", str(live))
    assert result.returncode == 0, result.stderr
    return {"old": old, "live": live, "fresh": fresh, "root": root, "plan": plan, "base": base, "port": port}


def test_the_older_archive_lacks_the_reports(archives):
    """The setup: the reextract has something to change (the reports, the edit's second count)."""
    old, fresh = Database(archives["old"]), Database(archives["fresh"])
    assert old["articles"].count < fresh["articles"].count
    assert old["versions"].count == 1


def test_after_reextract_the_archive_equals_a_fresh_crawl(archives):
    live, fresh = archive_snapshot(Database(archives["live"])), archive_snapshot(Database(archives["fresh"]))
    for key in fresh:
        assert live[key] == fresh[key], key


def test_after_reextract_the_index_describes_the_archive(archives):
    assert problems(archives["live"]) == []


def test_a_fresh_crawl_counts_each_text_once(archives):
    """NearDuplicateIndex.replace uncounts the replaced text (a copy taking an article's id, an edit under --refresh)."""
    assert problems(archives["fresh"]) == []


def test_after_reextract_the_index_equals_a_fresh_crawls(archives):
    """The fresh crawl's counts as its signatures imply (test_a_fresh_crawl_counts_each_text_once)."""
    live, fresh = index_tables(archives["live"]), index_tables(archives["fresh"], counted=True)
    assert fresh["pairs"]  # the site has near copies
    if len(archives["plan"].pages) > COMMON_ARTICLES * 4:
        assert fresh["common"] - index_tables(archives["old"])["common"]  # the reports brought template shingles
    for key in fresh:
        assert live[key] == fresh[key], key


def _copy(db_path, folder):
    """The archive and its WARC files in another folder."""
    folder.mkdir()
    copied = copy_archive(db_path, folder / "archive.db")
    shutil.copytree(db_path.parent / "warc", folder / "warc")
    return copied


def test_a_second_reextract_changes_nothing(archives, tmp_path):
    db_path = _copy(archives["live"], tmp_path / "again")
    before = all_rows(db_path)
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert all_rows(db_path) == before


@pytest.mark.parametrize("point", ["index", "swapped"])
def test_a_reextract_killed_in_the_swap_leaves_the_archive_as_it_was(archives, tmp_path, monkeypatch, point):
    """Killed (as kill -9) before the index's tables are rewritten, or after everything, before COMMIT."""
    db_path = _copy(archives["old"], tmp_path / "killed")
    before = all_rows(db_path)
    monkeypatch.setenv("ARSHIF_TEST_EXIT_IN_SWAP", point)
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 137, result.stderr
    assert all_rows(db_path) == before
    monkeypatch.delenv("ARSHIF_TEST_EXIT_IN_SWAP")
    result = run_arshif("reextract", "--db", str(db_path))  # the rerun finds the scratch file and lock of the killed one
    assert result.returncode == 0, result.stderr
    assert index_tables(db_path) == index_tables(archives["live"])
    assert problems(db_path) == []


def _grow(archives, root):
    """The site with a late near copy of every fifth story (reports included), listed from its home page."""
    shutil.copytree(archives["root"], root)
    late = []
    for page in archives["plan"].pages:
        if page.kind == "story" and page.story % 5 == 0:
            path = f"/wire/late-{page.story:04d}.html"
            paragraphs = page.paragraphs + [EXTRA + f" (متابعة {page.story})"]
            pages.write(root / path.lstrip("/"), pages.page(path, "متابعة: " + page.title, "2025-07-01T09:00:00+03:00",
                                                           paragraphs))
            late.append((path, page.path))
    pages.write(root / "list" / "late.html", pages.listing("متابعات", [(path, "متابعة") for path, _ in late]))
    home = root / "index.html"
    home.write_text(home.read_text(encoding="utf-8").replace("</ul>", '<li><a href="/list/late.html">متابعات</a></li>\n</ul>'),
                    encoding="utf-8")
    return late


def test_a_crawl_after_reextract_puts_new_copies_into_their_stories(archives, tmp_path):
    """New near copies crawled into the reextracted archive join the stories of their originals, and the archive
    and its index equal a fresh crawl of the grown site."""
    db_path = _copy(archives["live"], tmp_path / "live")
    root = tmp_path / "site"
    late = _grow(archives, root)
    with SiteServer(root, port=archives["port"]) as server:
        run = crawl(str(root / "source.toml"), db_path, server.origin, "-s", "ARSHIF_BATCH_SIZE=10")
        assert run.returncode == 0, run.stderr[-3000:]
        fresh = tmp_path / "fresh" / "archive.db"
        run = crawl(str(root / "source.toml"), fresh, server.origin, "-s", "ARSHIF_BATCH_SIZE=10")
        assert run.returncode == 0, run.stderr[-3000:]
    db = Database(db_path)
    story = {url.split("/", 3)[3]: story_id for url, story_id in db.execute(  # a page, or the article its exact copy is
        "SELECT url, story_id FROM articles UNION ALL"
        " SELECT d.url, a.story_id FROM duplicates d JOIN articles a ON a.id = d.duplicate_of")}
    assert len(late) == len(range(0, sum(page.kind == "story" for page in archives["plan"].pages), 5))
    for copy, original in late:
        assert story[copy.lstrip("/")] == story[original.lstrip("/")], copy
    assert problems(db_path) == []
    got, expected = archive_snapshot(db), archive_snapshot(Database(fresh))
    for key in expected:
        assert got[key] == expected[key], key
    got, expected = index_tables(db_path, counted=True), index_tables(fresh, counted=True)  # a crawl counts (see above)
    for key in expected:
        assert got[key] == expected[key], key


def test_a_reextract_after_a_killed_crawl_leaves_no_run_undecided(archives, tmp_path, monkeypatch):
    """A crawl killed (kill -9) after its first index write leaves its run undecided; the reextract decides the
    stories of everything archived, so no run stays open for the next crawl to decide again."""
    db_path = _copy(archives["old"], tmp_path / "killed")
    root = tmp_path / "site"
    _grow(archives, root)
    with SiteServer(root, port=archives["port"]) as server:
        monkeypatch.setenv("ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES", "1")
        run = crawl(str(root / "source.toml"), db_path, server.origin, "-s", "ARSHIF_BATCH_SIZE=10")
        monkeypatch.delenv("ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES")
    assert run.returncode != 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM near_duplicate_runs WHERE resolved = 0").fetchone()[0] == 1
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert problems(db_path) == []


@pytest.mark.parametrize("damaged", [0, 1])
def test_reextract_skipping_an_unreadable_warc_keeps_the_index_of_the_rows_it_keeps(archives, tmp_path, damaged):
    """--skip-unreadable: the articles of the WARC file cut short keep their rows, signatures, bands and the pairs
    they proposed; the counts cover them and the rebuilt ones, each once: the index is the one it was."""
    db_path = _copy(archives["live"], tmp_path / "damaged")
    before, rows = index_tables(db_path), all_rows(db_path)
    warc = sorted((tmp_path / "damaged" / "warc").glob("*.warc.gz"))[damaged]
    warc.write_bytes(warc.read_bytes()[: warc.stat().st_size // 2])
    result = run_arshif("reextract", "--db", str(db_path), "--skip-unreadable")
    assert result.returncode == 0, result.stderr
    assert warc.name in result.stderr
    assert "the rebuild did not produce kept" in result.stdout and " 0 articles and" not in result.stdout, result.stdout
    assert problems(db_path) == []
    assert all_rows(db_path)["articles"] == rows["articles"]
    assert index_tables(db_path) == before
