"""`arshif reextract` is all-or-nothing and keeps ids (issue 18, items 2 and 4).

Real archives (a crawl of the demo site), real WARC files damaged on disk, the real command line.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

from tests.conftest import copy_archive, make_datasette, run_arshif


def _archive(demo_crawl, tmp_path):
    db_path = copy_archive(demo_crawl.db_path, tmp_path / "archive.db")
    shutil.copytree(demo_crawl.db_path.parent / "warc", tmp_path / "warc")
    return db_path


def _rows(db_path) -> dict:
    """Everything reextract may touch, row for row (ids, crawl ids, stories, the near-duplicate index)."""
    with sqlite3.connect(db_path) as conn:
        return {
            "articles": conn.execute("SELECT * FROM articles ORDER BY id").fetchall(),
            "duplicates": conn.execute("SELECT * FROM duplicates ORDER BY id").fetchall(),
            "signatures": conn.execute("SELECT * FROM near_duplicate_signatures ORDER BY article_id").fetchall(),
            "bands": conn.execute("SELECT * FROM near_duplicate_bands ORDER BY band_key, article_id").fetchall(),
            "fts": conn.execute("SELECT rowid, title FROM articles_fts ORDER BY rowid").fetchall(),
            "pages": conn.execute("SELECT * FROM pages ORDER BY url").fetchall(),
            "crawls": conn.execute("SELECT * FROM crawls ORDER BY id").fetchall(),
        }


def _invariants(db_path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = {row[0] for row in conn.execute("SELECT id FROM articles")}
        assert {row[0] for row in conn.execute("SELECT rowid FROM articles_fts")} == ids  # FTS in step
        assert {row[0] for row in conn.execute("SELECT duplicate_of FROM duplicates")} <= ids
        assert {row[0] for row in conn.execute("SELECT article_id FROM near_duplicate_signatures")} <= ids
        assert {row[0] for row in conn.execute("SELECT article_id FROM near_duplicate_bands")} <= ids
        assert {row[0] for row in conn.execute("SELECT story_id FROM articles")} <= ids


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage(tmp_path, how: str) -> str:
    (warc,) = sorted((tmp_path / "warc").glob("*.warc.gz"))
    data = warc.read_bytes()
    half = len(data) // 2
    warc.write_bytes(data[:half] if how == "truncate" else data[:half] + b"\0" * 200 + data[half + 200:])
    return warc.name


def _refused_without_a_change(demo_crawl, tmp_path, how: str) -> None:
    db_path = _archive(demo_crawl, tmp_path)
    before, digest = _rows(db_path), _digest(db_path)
    name = _damage(tmp_path, how)
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode != 0, result.stdout
    assert name in result.stderr
    assert "Replaced" not in result.stdout
    assert _digest(db_path) == digest  # not a byte of the archive changed
    assert _rows(db_path) == before
    assert not (tmp_path / "archive.reextract.db").exists()
    # --skip-unreadable rebuilds from the rest and keeps the rows of what it could not read
    result = run_arshif("reextract", "--db", str(db_path), "--skip-unreadable")
    assert result.returncode == 0, result.stderr
    assert name in result.stderr
    assert _rows(db_path)["articles"] == before["articles"]
    assert _rows(db_path)["duplicates"] == before["duplicates"]
    _invariants(db_path)


def test_reextract_refuses_a_truncated_warc_and_leaves_the_archive_alone(demo_crawl, tmp_path):
    _refused_without_a_change(demo_crawl, tmp_path, "truncate")


def test_reextract_refuses_a_warc_with_zero_bytes_inside(demo_crawl, tmp_path):
    _refused_without_a_change(demo_crawl, tmp_path, "zeros")


def test_reextract_into_refuses_an_unreadable_warc_too(demo_crawl, tmp_path):
    db_path = _archive(demo_crawl, tmp_path)
    _damage(tmp_path, "truncate")
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(tmp_path / "rebuilt.db"))
    assert result.returncode != 0
    assert not (tmp_path / "rebuilt.db").exists()  # no partial archive left to be mistaken for a whole one


def test_reextract_keeps_ids_crawl_ids_stories_and_index_and_a_second_run_changes_nothing(demo_crawl, tmp_path):
    db_path = _archive(demo_crawl, tmp_path)
    before = _rows(db_path)
    assert all(row[16] is not None for row in before["articles"])  # crawl_id
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    after = _rows(db_path)
    with sqlite3.connect(db_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    assert columns[16] == "crawl_id"
    assert {(row[0], row[1]) for row in after["articles"]} == {(row[0], row[1]) for row in before["articles"]}
    assert after == before  # ids, crawl ids, stories, duplicates, index, search rows, pages, crawls
    _invariants(db_path)
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert _rows(db_path) == before


def test_reextract_gives_new_ids_only_to_rows_new_to_the_archive(demo_crawl, tmp_path):
    db_path = _archive(demo_crawl, tmp_path)
    with sqlite3.connect(db_path) as conn:
        ids = dict(conn.execute("SELECT url, id FROM articles").fetchall())
        lost_url, lost_id = conn.execute(  # an article of the WARC the archive does not hold (no copy points at it)
            "SELECT url, id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM duplicates WHERE duplicate_of = a.id)"
            " AND NOT EXISTS (SELECT 1 FROM articles b WHERE b.story_id = a.id AND b.id != a.id) ORDER BY id LIMIT 1"
        ).fetchone()
        conn.execute("DELETE FROM articles WHERE id = ?", [lost_id])
        conn.execute("DELETE FROM near_duplicate_bands WHERE article_id = ?", [lost_id])
        conn.execute("DELETE FROM near_duplicate_signatures WHERE article_id = ?", [lost_id])
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        after = dict(conn.execute("SELECT url, id FROM articles").fetchall())
    assert {url: i for url, i in after.items() if url != lost_url} == {url: i for url, i in ids.items() if url != lost_url}
    assert after[lost_url] > max(ids.values())  # a new id, never one the archive gave before
    _invariants(db_path)


async def test_a_reader_sees_the_whole_archive_before_or_after_the_swap_never_between(demo_crawl, tmp_path):
    """`arshif serve` (WAL mode): a read transaction open across the swap keeps the old rows, the next read gets
    the new ones, and an article's page names the same article before and after."""
    db_path = _archive(demo_crawl, tmp_path)
    from pipelines.archive.database import open_archive

    archive = open_archive(db_path)
    with archive.conn:
        archive.execute("UPDATE articles SET text = 'stale' WHERE id = (SELECT MIN(id) FROM articles)")
    archive.close()
    count = demo_crawl.db["articles"].count
    ds = make_datasette(db_path)
    first = (await ds.client.get("/archive/articles.json?_shape=array&_size=max")).json()
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM articles WHERE text = 'stale'").fetchone()[0] == 1
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == count  # its snapshot: the old archive
    assert reader.execute("SELECT COUNT(*) FROM articles WHERE text = 'stale'").fetchone()[0] == 1
    reader.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == count
    assert reader.execute("SELECT COUNT(*) FROM articles WHERE text = 'stale'").fetchone()[0] == 0
    reader.close()
    second = (await ds.client.get("/archive/articles.json?_shape=array&_size=max")).json()
    assert {(row["id"], row["url"]) for row in second} == {(row["id"], row["url"]) for row in first}
    some = first[0]["id"]
    assert (await ds.client.get(f"/-/article/{some}")).status_code == 200


def test_reextract_of_a_multi_batch_archive_with_stories_keeps_every_row(tmp_path):
    """tests/story_site.py (near copies in stories, exact copies, several batches): a reextract keeps every
    article's id, story, crawl id and index row."""
    from crawler.demo.server import SiteServer
    from tests.conftest import crawl
    from tests.story_site import build

    root = tmp_path / "site"
    build(root, 60)
    db_path = tmp_path / "archive" / "archive.db"
    with SiteServer(root) as server:
        run = crawl(str(root / "source.toml"), db_path, server.origin, "-s", "ARSHIF_BATCH_SIZE=10")
    assert run.returncode == 0, run.stderr[-3000:]
    before = _rows(db_path)
    copy_archive(db_path, tmp_path / "before.db")
    with sqlite3.connect(db_path) as conn:
        stories = conn.execute("SELECT COUNT(*) FROM (SELECT story_id FROM articles GROUP BY story_id HAVING COUNT(*) > 1)")
        assert stories.fetchone()[0] > 0
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert _rows(db_path) == before
    _invariants(db_path)


def _edited_archive(tmp_path):
    """A 12-story site crawled, one story edited, crawled again with --refresh: one `versions` row."""
    from crawler.demo.server import SiteServer
    from tests.conftest import crawl
    from tests.story_site import build

    root = tmp_path / "site"
    plan = build(root, 12)
    edited = next(page for page in plan.pages if page.kind == "story")
    db_path = tmp_path / "archive" / "archive.db"
    with SiteServer(root) as server:
        assert crawl(str(root / "source.toml"), db_path, server.origin).returncode == 0
        path = root / edited.path.lstrip("/")
        path.write_text(path.read_text(encoding="utf-8").replace(
            "</article>", "<p>وأضافت الصحيفة في تحديث لاحق أن الاجتماع تأجل إلى الأسبوع المقبل بطلب من الوفود.</p>\n</article>"),
            encoding="utf-8")
        assert crawl(str(root / "source.toml"), db_path, server.origin, "--refresh").returncode == 0
    return db_path, edited


def test_reextract_after_an_edit_keeps_the_newest_text(tmp_path):
    """An article fetched twice with two texts (--refresh): the WARC holds both responses; the rebuilt row must
    carry the newest text, as the archive does, not the first one replayed."""
    db_path, edited = _edited_archive(tmp_path)
    before = _rows(db_path)
    copy_archive(db_path, tmp_path / "before.db")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert _rows(db_path) == before
    with sqlite3.connect(db_path) as conn:
        (text,) = conn.execute("SELECT text FROM articles WHERE url LIKE ?", [f"%{edited.path}"]).fetchone()
        (older,) = conn.execute("SELECT text FROM versions").fetchone()
    assert "تأجل إلى الأسبوع المقبل" in text and "تأجل إلى الأسبوع المقبل" not in older  # the newest text, the older kept
    _invariants(db_path)


def _warc_names(folder) -> set[str]:
    return {path.name for path in (folder / "warc").glob("*.warc.gz")}


def test_reextract_replays_only_its_own_archives_records_from_a_shared_warc_folder(demo_site, tmp_path):
    """Two archives of two different sites in one folder share warc/: a reextract of either (in place and
    --into) equals a reextract of that archive alone, and nothing of the other archive appears in it."""
    from sqlite_utils import Database

    from crawler.demo.server import SiteServer
    from tests.conftest import archive_snapshot, crawl
    from tests.story_site import build

    shared = tmp_path / "shared"
    root = tmp_path / "site"
    build(root, 12)
    assert crawl("demo", shared / "e.db", demo_site.origin).returncode == 0
    e_files = _warc_names(shared)
    with SiteServer(root) as server:
        assert crawl(str(root / "source.toml"), shared / "h.db", server.origin).returncode == 0
        other_origin = server.origin
    h_files = _warc_names(shared) - e_files
    assert e_files and h_files
    alone = {}
    for name, files in (("e", e_files), ("h", h_files)):  # each archive alone in its folder, with its own files
        folder = tmp_path / f"alone-{name}"
        (folder / "warc").mkdir(parents=True)
        copy_archive(shared / f"{name}.db", folder / f"{name}.db")
        for file in files:
            shutil.copy2(shared / "warc" / file, folder / "warc" / file)
        result = run_arshif("reextract", "--db", str(folder / f"{name}.db"), "--into", str(folder / "re.db"))
        assert result.returncode == 0, result.stderr
        alone[name] = archive_snapshot(Database(folder / "re.db"))
    foreign_origin = {"e": other_origin, "h": demo_site.origin}
    for name in ("e", "h"):
        original = archive_snapshot(Database(shared / f"{name}.db"))
        assert alone[name] == original  # the reference: a reextract of the archive alone rebuilds it
        result = run_arshif("reextract", "--db", str(shared / f"{name}.db"), "--into", str(tmp_path / f"{name}-re.db"))
        assert result.returncode == 0, result.stderr
        rebuilt = Database(tmp_path / f"{name}-re.db")
        assert archive_snapshot(rebuilt) == alone[name]
        assert "no row of" in result.stderr  # the other archive's files are named as not replayed
        urls = [row[0] for row in rebuilt.execute("SELECT url FROM articles UNION ALL SELECT url FROM duplicates")]
        assert urls and not [url for url in urls if url.startswith(foreign_origin[name])]
        result = run_arshif("reextract", "--db", str(shared / f"{name}.db"))  # in place
        assert result.returncode == 0, result.stderr
        assert archive_snapshot(Database(shared / f"{name}.db")) == alone[name]
        _invariants(shared / f"{name}.db")


def test_reextract_into_keeps_the_versions_rows_and_the_archives_ids(tmp_path):
    """`--into NEW.db` is the archive's copy with the rebuilt rows swapped in, as in place: the `versions` rows of
    an edited article are there, pointing at the same URL's article, and every article keeps its id."""
    db_path, edited = _edited_archive(tmp_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute(  # ids no longer 1..n, so a renumbering shows: the first article nothing else points at
            "DELETE FROM articles WHERE id = (SELECT MIN(id) FROM articles a WHERE NOT EXISTS"
            " (SELECT 1 FROM duplicates WHERE duplicate_of = a.id) AND NOT EXISTS (SELECT 1 FROM versions WHERE article_id = a.id)"
            " AND NOT EXISTS (SELECT 1 FROM articles b WHERE b.story_id = a.id AND b.id != a.id))")
        versions = conn.execute("SELECT v.*, a.url FROM versions v JOIN articles a ON a.id = v.article_id").fetchall()
    assert len(versions) == 1 and versions[0][-1].endswith(edited.path)
    before = _rows(db_path)
    rebuilt = tmp_path / "rebuilt.db"
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(rebuilt))
    assert result.returncode == 0, result.stderr
    assert not [p for p in tmp_path.glob("rebuilt.db.*") if p.suffix != ".lock"]  # no scratch or partial copy left
    with sqlite3.connect(rebuilt) as conn:
        assert conn.execute("SELECT v.*, a.url FROM versions v JOIN articles a ON a.id = v.article_id").fetchall() == versions
    after = _rows(rebuilt)
    # the deleted article comes back from its WARC record with a new id above every id given; the others keep theirs
    kept = {row[1]: row for row in before["articles"]}
    assert {row[1]: row for row in after["articles"] if row[1] in kept} == kept
    assert len(after["articles"]) == len(before["articles"]) + 1
    assert after["duplicates"] == before["duplicates"]
    _invariants(rebuilt)
    assert _rows(db_path) == before  # the archive itself is untouched


def test_reextract_of_an_archive_naming_no_warc_record_says_it_replays_every_record(demo_crawl, tmp_path):
    """An archive older than WARC references cannot tell its files from another archive's: it says so."""
    db_path = _archive(demo_crawl, tmp_path)
    with sqlite3.connect(db_path) as conn:
        for table in ("articles", "duplicates", "pages", "versions"):
            conn.execute(f"UPDATE {table} SET warc_file = NULL, warc_offset = NULL, warc_length = NULL")
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(tmp_path / "rebuilt.db"))
    assert result.returncode == 0, result.stderr
    assert "names no WARC record" in result.stderr and "every record" in result.stderr
    with sqlite3.connect(tmp_path / "rebuilt.db") as rebuilt, sqlite3.connect(db_path) as archive:
        query = "SELECT url FROM articles ORDER BY url"
        assert rebuilt.execute(query).fetchall() == archive.execute(query).fetchall()
