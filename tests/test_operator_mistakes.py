"""Operator mistakes refused before anything is changed (issue 18, items 6, 7 and 12)."""

from __future__ import annotations

import os

from sqlite_utils import Database

from pipelines.archive.lock import ArchiveLock, ArchiveLocked
from tests.conftest import crawl


# -- item 6: one lock per archive file, whatever path names it ---------------------------------

def test_a_symlink_to_the_archive_meets_the_same_lock(tmp_path):
    real = tmp_path / "data" / "archive.db"
    real.parent.mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    linked_folder = tmp_path / "other"
    linked_folder.symlink_to(real.parent)
    with ArchiveLock(real):
        for other in (link, linked_folder / "archive.db", tmp_path / "data" / ".." / "data" / "archive.db"):
            try:
                ArchiveLock(other).acquire()
            except ArchiveLocked as exc:
                assert "another Arshif run" in str(exc)
            else:
                raise AssertionError(f"{other} was not locked")


def test_a_crawl_through_a_symlink_waits_for_the_running_one(tmp_path, demo_site):
    from pipelines.archive.database import open_archive

    real = tmp_path / "archive.db"
    open_archive(real).close()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with ArchiveLock(real):  # a running crawl into archive.db
        result = crawl("demo", link, demo_site.origin)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "another Arshif run" in result.stderr
    assert Database(real)["crawls"].count == 0
    # and the WARC files of a crawl through the link go beside the real file
    assert crawl("demo", link, demo_site.origin).returncode == 0
    assert any((tmp_path / "warc").glob("*.warc.gz"))
    assert Database(real)["articles"].count == 13
    assert os.path.islink(link)
    dangling = tmp_path / "dangling.db"  # a symlink into a disk that is not mounted: no new archive there
    dangling.symlink_to(tmp_path / "unmounted" / "archive.db")
    result = crawl("demo", dangling, demo_site.origin)
    assert result.returncode == 4 and "does not exist" in result.stderr
    assert not (tmp_path / "unmounted").exists()


# -- item 12: someone else's SQLite file, a folder or another file as --db -------------------

def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _foreign_sqlite(path):
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        connection.execute("INSERT INTO users (email) VALUES ('a@example.com')")
    connection.close()


def test_someone_elses_files_are_refused_untouched(tmp_path, demo_site):
    import sqlite3

    from pipelines.archive.checks import ArchiveError
    from pipelines.archive.database import open_archive

    cases = tmp_path / "cases"
    cases.mkdir()
    _foreign_sqlite(cases / "app.db")
    (cases / "notes.db").write_text("my notes, not a database\n", encoding="utf-8")
    (cases / "folder.db").mkdir()
    before = _snapshot(cases)
    for name, expected in (("app.db", "not an Arshif archive"), ("notes.db", "not an SQLite database"),
                           ("folder.db", "is a folder")):
        result = crawl("demo", cases / name, demo_site.origin)
        assert result.returncode == 4, (name, result.stderr[-2000:])
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
        try:
            open_archive(cases / name).close()
        except ArchiveError as exc:
            assert expected in str(exc)
        else:
            raise AssertionError(f"open_archive accepted {name}")
    assert _snapshot(cases) == before  # no WAL switch, no lock file, no migration table
    assert list((cases / "folder.db").iterdir()) == []
    with sqlite3.connect(f"file:{cases / 'app.db'}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["users"]


def test_an_empty_file_and_an_archive_are_accepted(tmp_path):
    from pipelines.archive.database import open_archive

    empty = tmp_path / "empty.db"
    empty.touch()
    open_archive(empty).close()
    open_archive(empty).close()  # now an archive: opened again


# -- item 7: commands that would destroy the archive without a word ----------------------------

def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_export_never_overwrites_the_archive_or_another_database(archive_db, tmp_path):
    from crawler.cli.main import main

    (tmp_path / "link.db").symlink_to(archive_db)
    _foreign_sqlite(tmp_path / "other.db")
    (tmp_path / "warc").mkdir()
    import gzip

    with gzip.open(tmp_path / "warc" / "a.warc.gz", "wb") as stream:
        stream.write(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n\r\n")
    before = _files(tmp_path)
    for output in (archive_db, tmp_path / "link.db", f"{archive_db}-wal", tmp_path / "other.db",
                   tmp_path / "warc" / "a.warc.gz", tmp_path / "warc"):
        assert main(["export", "--db", str(archive_db), "--output", str(output)]) == 2, output
    assert _files(tmp_path) == before
    assert main(["export", "--db", str(archive_db), "--output", str(tmp_path / "out.csv")]) == 0
    assert main(["export", "--db", str(archive_db), "--output", str(tmp_path / "out.csv")]) == 0  # a CSV may be replaced


def test_reextract_into_the_archive_or_an_existing_file_is_refused(archive_db, demo_crawl, tmp_path):
    import shutil

    from tests.conftest import run_arshif

    shutil.copytree(demo_crawl.db_path.parent / "warc", tmp_path / "warc")
    live = tmp_path / "live.db"
    open_archive_copy = Database(archive_db)
    open_archive_copy.close()
    shutil.copy(archive_db, live)
    before = _files(tmp_path)
    for into in (archive_db, tmp_path / "." / "archive.db", live):
        result = run_arshif("reextract", "--db", str(archive_db), "--into", str(into))
        assert result.returncode == 4, (into, result.stderr[-2000:])
        assert "--into" in result.stderr and "Traceback" not in result.stderr
    assert _files(tmp_path) == before
    # in place while a crawl writes: refused before the work, and before deleting anything
    scratch = tmp_path / "archive.reextract.db"
    scratch.write_bytes(b"left by an interrupted reextract")
    with ArchiveLock(archive_db):
        result = run_arshif("reextract", "--db", str(archive_db))
    assert result.returncode == 3, result.stderr[-2000:]
    assert scratch.read_bytes() == b"left by an interrupted reextract"
    with ArchiveLock(scratch):  # another reextract of this archive is running
        result = run_arshif("reextract", "--db", str(archive_db))
    assert result.returncode == 3
    after = {path: data for path, data in _files(tmp_path).items() if path.suffix != ".lock"}  # the test's own locks
    assert after == {**before, scratch.relative_to(tmp_path): b"left by an interrupted reextract"}
