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
    real = tmp_path / "archive.db"
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with ArchiveLock(real):  # a running crawl into archive.db
        result = crawl("demo", link, demo_site.origin)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "another Arshif run" in result.stderr
    assert not real.exists()
    # and the WARC files of a crawl through the link go beside the real file
    assert crawl("demo", link, demo_site.origin).returncode == 0
    assert any((tmp_path / "warc").glob("*.warc.gz"))
    assert Database(real)["articles"].count == 13
    assert os.path.islink(link)
