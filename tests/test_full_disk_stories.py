"""A disk that fills up inside the write paths of issue 17 (never lose an article; story clusters).

Each test copies a prepared archive (and its WARC folder) onto a real tmpfs inside a mount namespace of its own
(`unshare -m`, or `-rm` without root; tests/mount_namespace.py), fills that tmpfs with a ballast file up to a
number of free bytes chosen from a measured run of the same command, runs the real `arshif` command there, and
checks where the failure landed (its message, or the archive's state), that the command exited non-zero naming
the disk, that nothing archived was lost, changed or duplicated, and that the same command, once space is free
again, ends with the archive a run that never failed gives.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR, archive_snapshot, copy_archive, crawl, run_arshif
from tests.mount_namespace import can_mount
from tests.story_site import build

DISK = "{disk}"  # in a command's arguments: the tmpfs's path
STORIES = 120  # the story site: 190 article pages, an archive of 1.5 MB that a reextract grows the disk by 6 MB
ARCHIVED = ("articles", "duplicates", "versions", "stories", "snapshot", "warc")
LOCK_RESERVE = 256 << 10  # what a crawl's lock file holds for its last crawls row (pipelines/archive/lock.py)
FULL = ("No space left on device", "database or disk is full")
TABLES = ("articles", "duplicates", "versions", "stories", "near_duplicate_signatures", "near_duplicate_bands",
          "near_duplicate_pairs")


@dataclass
class FullRun:
    """What the command did on the tmpfs: exit code, output, the growth of the disk's use it peaked at (bytes,
    sampled), and `saved`, a copy of the disk as the command left it (the ballast left out)."""

    code: int | str
    stdout: str
    stderr: str
    peak_growth: int
    mark_growth: int | None  # the growth when it printed its first line (or ended without one); None: no `mark`
    after_mark: int | None  # the most the disk grew past its use at that point
    saved: Path


def run_on_full_disk(work: Path, preload: Path, args: list[str], free: int | None, size: str = "64m",
                     env: dict | None = None, mark: str | None = None, fill_at_mark: int | None = None,
                     timeout: float = 240) -> FullRun:
    """`arshif ARGS` (DISK in them names the tmpfs) on a tmpfs of `size` holding a copy of `preload`'s files and a
    ballast that leaves `free` bytes (None: no ballast, the run measures how much the command grows the disk,
    in all, and past the point where it prints its first line, held there on a full pipe while the disk is
    measured); with `fill_at_mark`, the ballast then grows to leave that many bytes free: a point the command
    reaches after its bigger writes (a reextract's replay), so the disk fills in what comes after it."""
    flag = can_mount()
    if flag not in ("-m", "-rm"):
        pytest.skip(f"no small file system can be made here: {flag}")
    disk = work / "disk"
    disk.mkdir(parents=True)
    spec = {"disk": str(disk), "saved": str(work / "saved"), "out": str(work), "size": size, "preload": str(preload),
            "args": args, "free": free, "env": env or {}, "mark": mark, "fill_at_mark": fill_at_mark,
            "timeout": timeout}
    run = subprocess.run(["unshare", flag, sys.executable, "-m", "tests.test_full_disk_stories", json.dumps(spec)],
                         cwd=PROJECT_DIR, check=False, capture_output=True, text=True, timeout=timeout + 120)
    assert run.returncode == 0, run.stderr[-3000:]  # the driver itself (mount, fill, copy) worked
    result = json.loads((work / "result.json").read_text())
    return FullRun(result["code"], (work / "stdout").read_text(encoding="utf-8", errors="replace"),
                   (work / "stderr").read_text(encoding="utf-8", errors="replace"), result["peak_growth"], result["mark_growth"], result["after_mark"], work / "saved")


F_SETPIPE_SZ = 1031  # fcntl: a pipe's capacity (Linux)
PIPE_SIZE = 4096


def _wchan(pid: int) -> str:
    """What the process waits on in the kernel: `pipe_write` (or `anon_pipe_write`) when its write blocks."""
    try:
        with open(f"/proc/{pid}/wchan") as wchan:
            return "pipe_write" if wchan.read().endswith("pipe_write") else ""
    except OSError:
        return ""


def _used(path: str) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def _drive(spec: dict) -> None:
    """Inside the namespace: mount, copy, fill, run, sample the disk's use, copy back."""
    disk, out = spec["disk"], spec["out"]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={spec['size']}", "tmpfs", disk], check=True)
    subprocess.run(["cp", "-a", f"{spec['preload']}/.", disk], check=True)
    ballast = os.path.join(disk, "ballast")
    if spec["free"] is not None:
        stat = os.statvfs(disk)
        with open(ballast, "wb") as filler:
            os.posix_fallocate(filler.fileno(), 0, stat.f_bavail * stat.f_frsize - spec["free"])
    start = _used(disk)
    peak, marked, after = [start], [None], [None]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            used = _used(disk)
            peak[0] = max(peak[0], used)
            if marked[0] is not None:
                after[0] = max(after[0], used)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    args = [arg.replace(DISK, disk) for arg in spec["args"]]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec["env"]}
    command = [sys.executable, "-m", "crawler.cli.main", *args]
    with open(os.path.join(out, "stdout"), "wb") as stdout, open(os.path.join(out, "stderr"), "w") as stderr:
        if spec["mark"]:  # its first line on stdout blocks on a full pipe: the disk is measured (and filled) then
            read, write = os.pipe()
            fcntl.fcntl(write, F_SETPIPE_SZ, PIPE_SIZE)
            os.write(write, b"\0" * PIPE_SIZE)
            process = subprocess.Popen(command, stdout=write, stderr=stderr, env=env)
            os.close(write)
            while process.poll() is None and _wchan(process.pid) != "pipe_write":
                time.sleep(0.002)
            used = _used(disk)
            marked[0], after[0] = used, used
            if spec["fill_at_mark"] is not None:
                stat = os.statvfs(disk)
                with open(ballast, "ab") as filler:
                    os.posix_fallocate(filler.fileno(), 0, os.fstat(filler.fileno()).st_size
                                       + stat.f_bavail * stat.f_frsize - spec["fill_at_mark"])
            os.read(read, PIPE_SIZE)  # the filler; the rest is the command's
            with os.fdopen(read, "rb") as printed:
                shutil.copyfileobj(printed, stdout)
        else:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        try:
            code = process.wait(timeout=spec["timeout"])
        except subprocess.TimeoutExpired:
            process.kill()
            code = "timeout"
    done.set()
    sampler.join()
    if os.path.exists(ballast):
        os.unlink(ballast)
    shutil.copytree(disk, spec["saved"], symlinks=True)
    with open(os.path.join(out, "result.json"), "w") as result:
        json.dump({"code": code, "peak_growth": peak[0] - start,
                   "mark_growth": None if marked[0] is None else marked[0] - start,
                   "after_mark": None if marked[0] is None else after[0] - marked[0]}, result)


# -- what an archive holds --------------------------------------------------------------------------------------


def _rows(db_path: Path) -> dict:
    """Every row of the tables an article lives in (ids, fetch times, stories, index), and the WARC files' bytes."""
    import hashlib
    import sqlite3

    from sqlite_utils import Database

    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in TABLES if table in present}
        assert {r[0] for r in connection.execute("SELECT rowid FROM articles_fts")} == \
            {r[0] for r in connection.execute("SELECT id FROM articles")}
    rows["snapshot"] = archive_snapshot(Database(db_path))
    warc = db_path.parent / "warc"
    rows["warc"] = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(warc.glob("*"))} \
        if warc.is_dir() else {}
    return rows


def _archived(db_path: Path) -> dict:
    """The rows that are the archive (not the index derived from them, which a command may build on opening it)."""
    return {key: value for key, value in _rows(db_path).items() if key in ARCHIVED}


def _same(one: Path, other: Path) -> bool:
    """Two archives that hold the same thing (ids and fetch times aside): articles, duplicates, stories, versions."""
    from sqlite_utils import Database

    def held(db_path: Path) -> dict:
        db = Database(db_path)
        versions = set(db.execute("SELECT a.url, v.text FROM versions v JOIN articles a ON a.id = v.article_id").fetchall())
        return {**archive_snapshot(db), "versions": versions}

    return held(one) == held(other)


def _crawled(run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def _named_the_disk(run: FullRun) -> None:
    """Non-zero, and a line of its own that says the disk is full (not a traceback alone)."""
    assert run.code not in (0, "timeout"), (run.code, run.stderr[-3000:])
    lines = [line for line in run.stderr.splitlines() if line.startswith("arshif") and any(f in line for f in FULL)]
    assert lines, run.stderr[-3000:]


def _leftovers(folder: Path, archive: str = "archive.db") -> list[str]:
    """Files a failed run must not leave: a scratch rebuild, a copy, anything but the archive and its WAL files."""
    kept = {archive, f"{archive}-wal", f"{archive}-shm", "warc"}
    return sorted(path.name for path in folder.iterdir() if path.name not in kept and not path.name.endswith(".lock"))


# -- a. `arshif reextract`, in place and --into ------------------------------------------------------------------


@pytest.fixture(scope="module")
def story_archive(tmp_path_factory) -> Path:
    """A crawl of the story site (copies, near copies, aliases): the folder holding archive.db and warc/."""
    base = tmp_path_factory.mktemp("story-archive")
    root = base / "site"
    build(root, STORIES)
    with SiteServer(root) as server:
        run = crawl(str(root / "source.toml"), base / "archive" / "archive.db", server.origin, *BATCH)
        (base / "port").write_text(str(server.httpd.server_address[1]))  # a later crawl serves from the same origin
    assert run.returncode == 0, run.stderr[-3000:]
    return base / "archive"


def _story_server(story_archive: Path) -> SiteServer:
    """The story site again, at the origin its archive was crawled from."""
    return SiteServer(story_archive.parent / "site", port=int((story_archive.parent / "port").read_text()))


def _copy_folder(folder: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    copy_archive(folder / "archive.db", target / "archive.db")
    shutil.copytree(folder / "warc", target / "warc")
    return target


REEXTRACT_MARK = "reextract: "  # printed once the replay has ended, before the copy and the swap


@pytest.mark.parametrize("stage", ["replay", "swap"])
def test_a_disk_that_fills_up_in_reextract_changes_nothing_and_the_rerun_equals_a_clean_one(story_archive, tmp_path, stage):
    """In place: the replay writes a scratch archive beside the archive, then the checked swap writes the
    archive (articles, duplicates, stories, the near-duplicate index). The disk fills in one, then the other."""
    args = ["reextract", "--db", f"{DISK}/archive.db"]
    measured = run_on_full_disk(tmp_path / "measure", story_archive, args, None, mark=REEXTRACT_MARK)
    assert measured.code == 0 and measured.mark_growth is not None, measured.stderr[-3000:]
    assert measured.after_mark > 200_000, measured  # the swap writes enough for a ballast to land in it
    if stage == "replay":
        full = run_on_full_disk(tmp_path / "full", story_archive, args, measured.mark_growth // 2, mark=REEXTRACT_MARK)
    else:  # the replay's scratch archive and its log take more room than the swap: the disk fills once it ended
        full = run_on_full_disk(tmp_path / "full", story_archive, args, None, mark=REEXTRACT_MARK,
                                fill_at_mark=measured.after_mark // 2)
    _named_the_disk(full)
    if stage == "replay":
        assert "the replay did not finish (write_failed: cannot write" in full.stderr, full.stderr[-3000:]
    else:
        assert "the rebuilt rows could not be written into" in full.stderr, full.stderr[-3000:]
        assert REEXTRACT_MARK in full.stdout and "Replaced" not in full.stdout
    assert "Nothing changed in" in full.stderr
    assert _rows(full.saved / "archive.db") == _rows(story_archive / "archive.db")  # nothing lost, changed, added
    assert _leftovers(full.saved) == []  # no scratch archive left to take room

    clean = _copy_folder(story_archive, tmp_path / "clean")
    assert run_arshif("reextract", "--db", str(clean / "archive.db")).returncode == 0
    again = run_arshif("reextract", "--db", str(full.saved / "archive.db"))  # space is free again
    assert again.returncode == 0, again.stderr[-3000:]
    assert _rows(full.saved / "archive.db") == _rows(clean / "archive.db")


def test_a_disk_too_full_for_the_lock_file_is_one_line(story_archive, tmp_path):
    """No room at all: the lock file's first write fails before any step (it was a traceback)."""
    full = run_on_full_disk(tmp_path / "full", story_archive, ["reextract", "--db", f"{DISK}/archive.db"], 0)
    _named_the_disk(full)
    assert full.code == 1 and "arshif reextract: cannot write: No space left on device [ENOSPC]" in full.stderr, full.stderr
    assert "Traceback" not in full.stderr
    assert _rows(full.saved / "archive.db") == _rows(story_archive / "archive.db")


@pytest.mark.parametrize("stage", ["copy", "swap"])
def test_a_disk_that_fills_up_in_reextract_into_leaves_no_new_archive_and_the_rerun_equals_a_clean_one(
        story_archive, tmp_path, stage):
    """--into NEW.db: the replay, then a copy of the archive to NEW.db.partial, then the swap in that copy, then
    the link to NEW.db. The disk fills in the copy, then in the swap: no NEW.db, no partial file, the archive
    as it was."""
    args = ["reextract", "--db", f"{DISK}/archive.db", "--into", f"{DISK}/new.db"]
    measured = run_on_full_disk(tmp_path / "measure", story_archive, args, None, mark=REEXTRACT_MARK)
    assert measured.code == 0 and measured.mark_growth is not None, measured.stderr[-3000:]
    copied = (measured.saved / "new.db").stat().st_size  # the copy's size, the swap's growth past it
    assert copied + 200_000 < measured.after_mark, measured
    free = copied // 2 if stage == "copy" else (copied + measured.after_mark) // 2
    full = run_on_full_disk(tmp_path / "full", story_archive, args, None, mark=REEXTRACT_MARK, fill_at_mark=free)
    _named_the_disk(full)
    assert full.stdout.startswith(REEXTRACT_MARK)  # the replay ended: the disk filled after it
    if stage == "copy":
        assert "could not copy" in full.stderr and "new.db.partial" in full.stderr, full.stderr[-3000:]
    else:
        assert "the rebuilt rows could not be written into" in full.stderr and "new.db.partial" in full.stderr, \
            full.stderr[-3000:]
    assert "No archive written at" in full.stderr
    assert _leftovers(full.saved) == []  # neither new.db nor new.db.partial: nothing to take for a whole archive
    assert _rows(full.saved / "archive.db") == _rows(story_archive / "archive.db")

    clean = _copy_folder(story_archive, tmp_path / "clean")
    assert run_arshif("reextract", "--db", str(clean / "archive.db"), "--into", str(clean / "new.db")).returncode == 0
    again = run_arshif("reextract", "--db", str(full.saved / "archive.db"), "--into", str(full.saved / "new.db"))
    assert again.returncode == 0, again.stderr[-3000:]
    assert _rows(full.saved / "new.db") == {**_rows(clean / "new.db"), "warc": _rows(full.saved / "new.db")["warc"]}
    assert _rows(full.saved / "archive.db") == _rows(story_archive / "archive.db")



# -- b. `arshif merge` of older fetches: each older text becomes a `versions` row before the current text ------------

EDITED = 300  # articles whose older fetch a shard holds: 300 versions rows, about 1 MB, in the merge's last write


def _texts(count: int) -> list[tuple[str, str]]:
    """(older, newer) texts of `count` articles: the newer one adds an update paragraph (tests/story_site.py)."""
    from tests.story_site import plan

    stories = [page for page in plan(count).pages if page.kind == "story"][:count]
    assert len(stories) == count
    return [(" ".join(page.paragraphs), " ".join(page.paragraphs) + f" وأضاف المتحدث في تحديث لاحق رقم {n} أن الاجتماع"
             " المقبل سيعقد في الرباط.") for n, page in enumerate(stories)]


@pytest.fixture(scope="module")
def merge_folder(tmp_path_factory) -> Path:
    """archive.db holding each article's newer text (fetched at 09:00) and shard/s1.db its older fetch (08:00)."""
    from tests.test_distributed import _article, _shard

    folder = tmp_path_factory.mktemp("merge")
    (folder / "shard").mkdir()
    texts = _texts(EDITED)
    _shard(folder / "archive.db", [_article(f"http://x/{n}.html", newer, "2025-03-10", "2026-12-07T09:00:00+00:00")
                                   for n, (_, newer) in enumerate(texts)])
    _shard(folder / "shard" / "s1.db", [_article(f"http://x/{n}.html", older, "2025-03-10", "2026-12-07T08:00:00+00:00")
                                        for n, (older, _) in enumerate(texts)])
    return folder


def _count(db_path: Path, sql: str):
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql).fetchone()[0]


def test_a_disk_that_fills_up_while_merge_writes_older_texts_as_versions_loses_nothing(merge_folder, tmp_path):
    args = ["merge", f"{DISK}/shard/s1.db", "--into", f"{DISK}/archive.db", "--no-warc"]
    measured = run_on_full_disk(tmp_path / "measure", merge_folder, args, None)
    assert measured.code == 0, measured.stderr[-3000:]
    assert f"{EDITED} older texts kept as versions" in measured.stdout, measured.stdout
    full = run_on_full_disk(tmp_path / "full", merge_folder, args, measured.peak_growth // 2)
    _named_the_disk(full)
    assert "Traceback" not in full.stderr and "arshif merge: cannot write" in full.stderr, full.stderr[-3000:]
    archive = full.saved / "archive.db"
    # it landed in the versions' write: the merge's crawls row and the index of the archive's articles (its earlier
    # writes) are committed, no version is
    assert _count(archive, "SELECT COUNT(*) FROM crawls") == 2
    assert _count(archive, "SELECT COUNT(*) FROM near_duplicate_signatures") == EDITED
    assert _count(archive, "SELECT COUNT(*) FROM versions") == 0
    assert _archived(archive) == _archived(merge_folder / "archive.db")  # every archived row as it was

    clean = tmp_path / "clean"
    shutil.copytree(merge_folder, clean)
    assert run_arshif("merge", str(clean / "shard" / "s1.db"), "--into", str(clean / "archive.db"), "--no-warc").returncode == 0
    again = run_arshif("merge", str(full.saved / "shard" / "s1.db"), "--into", str(archive), "--no-warc")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _rows(archive) == _rows(clean / "archive.db")
    assert _count(archive, "SELECT COUNT(*) FROM versions") == EDITED
    assert _count(archive, "SELECT COUNT(*) FROM crawls") == 2  # the failed run's crawls row is recognised, not added again



# -- c. what the next crawl repairs and catches up when it opens the archive ---------------------------------------


def _wal_of(db_path: Path, change) -> int:
    """How many bytes of write-ahead log `change(db)` writes on a copy of the archive (checkpoints held off)."""
    import sqlite3

    from sqlite_utils import Database

    copy = copy_archive(db_path, db_path.with_name("wal-probe.db"))
    connection = sqlite3.connect(copy)
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    change(Database(connection))
    size = Path(f"{copy}-wal").stat().st_size
    connection.close()
    for path in copy.parent.glob("wal-probe.db*"):
        path.unlink()
    return size


BATCH = ("-s", "ARSHIF_BATCH_SIZE=10")


def _source(story_archive: Path) -> str:
    return str(story_archive.parent / "site" / "source.toml")


def _crawl_args(story_archive: Path, origin: str, *extra: str) -> list[str]:
    return ["crawl", _source(story_archive), "--db", f"{DISK}/archive.db", "--base-url", origin, "--local", *BATCH, *extra]


def test_a_disk_that_fills_up_in_the_repair_of_hand_edited_story_ids_loses_nothing(story_archive, tmp_path):
    """Every article's story_id edited by hand to a text: the next crawl's open makes each a story of its own
    (`_repair_story_ids`), one transaction that rewrites the articles' pages. The disk fills in it."""
    import sqlite3

    from pipelines.similarity.near_duplicates import _repair_story_ids

    edited = _copy_folder(story_archive, tmp_path / "edited")
    with sqlite3.connect(edited / "archive.db") as connection:
        connection.execute("UPDATE articles SET story_id = 'abc'")
    repair = _wal_of(edited / "archive.db", _repair_story_ids)
    assert repair > 300_000, repair
    with _story_server(story_archive) as server:
        args = _crawl_args(story_archive, server.origin)
        full = run_on_full_disk(tmp_path / "full", edited, args, LOCK_RESERVE + repair // 2)
        _named_the_disk(full)
        assert "arshif: the crawl stopped: near-duplicate index:" in full.stderr, full.stderr[-3000:]
        archive = full.saved / "archive.db"
        # it landed in the repair: its transaction is not committed (every story_id still the edited text)
        assert _count(archive, "SELECT COUNT(*) FROM articles WHERE story_id = 'abc'") == \
            _count(archive, "SELECT COUNT(*) FROM articles") > 100
        assert _count(archive, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == "failed"
        assert _archived(archive) == _archived(edited / "archive.db")
        clean = _copy_folder(edited, tmp_path / "clean")
        _crawled(crawl(_source(story_archive), clean / "archive.db", server.origin, *BATCH))
        _crawled(crawl(_source(story_archive), archive, server.origin, *BATCH))  # space is free again
    assert _count(archive, "SELECT COUNT(*) FROM articles WHERE story_id = 'abc'") == 0
    assert _same(archive, clean / "archive.db")



INDEXED = 20  # the articles a killed run's index batch reached: the ids above have no index rows


def test_a_disk_that_fills_up_in_the_catch_up_of_articles_written_before_their_index_loses_nothing(story_archive, tmp_path):
    """A run killed after its articles' batch and before its index batch leaves articles the index does not
    know; the next crawl's open proposes and indexes them (`opened_before` in `open_index`). The disk fills in it."""
    import sqlite3

    from pipelines.similarity.near_duplicates import open_index

    killed = _copy_folder(story_archive, tmp_path / "killed")
    with sqlite3.connect(killed / "archive.db") as connection:
        for table in ("near_duplicate_bands", "near_duplicate_signatures", "near_duplicate_pairs"):
            connection.execute(f"DELETE FROM {table} WHERE article_id > ?", [INDEXED])
    catch_up = _wal_of(killed / "archive.db", open_index)
    assert catch_up > 300_000, catch_up
    unindexed = "SELECT COUNT(*) FROM articles WHERE id NOT IN (SELECT article_id FROM near_duplicate_signatures)"
    with _story_server(story_archive) as server:
        full = run_on_full_disk(tmp_path / "full", killed, _crawl_args(story_archive, server.origin), LOCK_RESERVE + catch_up // 2)
        _named_the_disk(full)
        assert "arshif: the crawl stopped: near-duplicate index:" in full.stderr, full.stderr[-3000:]
        archive = full.saved / "archive.db"
        # it landed in the catch-up: the articles above INDEXED are still unindexed
        assert _count(archive, unindexed) == _count(killed / "archive.db", unindexed) > 100
        assert _count(archive, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == "failed"
        assert _archived(archive) == _archived(killed / "archive.db")
        clean = _copy_folder(killed, tmp_path / "clean")
        _crawled(crawl(_source(story_archive), clean / "archive.db", server.origin, *BATCH))
        _crawled(crawl(_source(story_archive), archive, server.origin, *BATCH))  # space is free again
    assert _count(archive, unindexed) == 0
    assert _same(archive, clean / "archive.db")



def _all_args(seeds: Path, base_map: Path, db: str) -> list[str]:
    return ["crawl", "--all", "--seeds", str(seeds), "--db", db, "--base-url-map", str(base_map), "--local", *BATCH]


@pytest.mark.parametrize("stage", ["catch-up", "repair"])
def test_crawl_all_on_a_disk_that_fills_up_in_the_shared_index_open_loses_nothing(tmp_path, stage):
    """`crawl --all` opens one near-duplicate index for all its sources (`DedupPipeline._open_shared`). An archive
    of three sources (the story site, the demo and its mirror) that a killed run left with articles the index does
    not know (or whose story_ids were edited by hand): the disk fills in the catch-up (or the repair) of that shared
    open. Every source's crawl fails naming the disk, none goes on without its index, and the rerun with room is a
    clean `--all`."""
    import sqlite3

    from crawler.demo.server import DEMO_SITE
    from pipelines.similarity.near_duplicates import _repair_story_ids, open_index
    from tests.test_many_sources import crawls, seeds_folder

    site = tmp_path / "site"
    build(site, STORIES)
    names = ("story-site", "demo", "mirror")
    with SiteServer(site) as story, SiteServer(DEMO_SITE) as demo, SiteServer(DEMO_SITE) as mirror:
        seeds, base_map = seeds_folder(tmp_path / "seeds", {"demo": demo.origin, "mirror": mirror.origin},
                                       names=("demo", "mirror"))
        shutil.copy(site / "source.toml", seeds / "story-site.toml")
        base_map.write_text(base_map.read_text() + f'story-site = "{story.origin}"\n', encoding="utf-8")
        first = tmp_path / "first"
        first.mkdir()
        _crawled(run_arshif(*_all_args(seeds, base_map, str(first / "archive.db"))))
        assert sorted(crawls(first / "archive.db")) == sorted(names)
        killed = _copy_folder(first, tmp_path / "killed")
        with sqlite3.connect(killed / "archive.db") as connection:
            if stage == "catch-up":
                for table in ("near_duplicate_bands", "near_duplicate_signatures", "near_duplicate_pairs"):
                    connection.execute(f"DELETE FROM {table} WHERE article_id > ?", [INDEXED])
            else:
                connection.execute("UPDATE articles SET story_id = 'abc'")
            last_crawl = connection.execute("SELECT MAX(id) FROM crawls").fetchone()[0]
        written = _wal_of(killed / "archive.db", open_index if stage == "catch-up" else _repair_story_ids)
        assert written > 300_000, written
        unindexed = "SELECT COUNT(*) FROM articles WHERE id NOT IN (SELECT article_id FROM near_duplicate_signatures)"
        edited = "SELECT COUNT(*) FROM articles WHERE story_id = 'abc'"
        full = run_on_full_disk(tmp_path / "full", killed, _all_args(seeds, base_map, f"{DISK}/archive.db"),
                                LOCK_RESERVE + written // 2)
        _named_the_disk(full)
        assert "Traceback" not in full.stderr, full.stderr[-3000:]
        failed = [line for line in full.stderr.splitlines() if line.startswith("arshif: source ")]
        assert sorted(line.split()[2] for line in failed) == sorted(names), full.stderr[-3000:]  # one line a source
        assert all(any(f in line for f in FULL) for line in failed), failed  # each names the disk
        assert any("near-duplicate index:" in line for line in failed), failed  # the open's catch-up
        assert "3 sources: 0 finished, 3 failed" in full.stdout, full.stdout
        archive = full.saved / "archive.db"
        # it landed in the open: the articles above INDEXED are still unindexed (every story_id still the edited text)
        if stage == "catch-up":
            assert _count(archive, unindexed) == _count(killed / "archive.db", unindexed) > 100
        else:
            assert _count(archive, edited) == _count(archive, "SELECT COUNT(*) FROM articles") > 100
        runs = [row for rows in crawls(archive).values() for row in rows if row["id"] > last_crawl]
        assert sorted(row["source"] for row in runs) == sorted(names)
        assert {row["status"] for row in runs} == {"failed"}, runs  # no source finished without its index
        assert _archived(archive) == _archived(killed / "archive.db")
        clean = _copy_folder(killed, tmp_path / "clean")
        _crawled(run_arshif(*_all_args(seeds, base_map, str(clean / "archive.db"))))
        _crawled(run_arshif(*_all_args(seeds, base_map, str(archive))))  # space is free again
    assert _count(archive, unindexed) == _count(archive, edited) == 0
    assert _same(archive, clean / "archive.db")


# -- d. `crawl --refresh` of a duplicate's URL that now carries a text of its own ----------------------------------


def _rewrite(site: Path, urls: list[str]) -> None:
    """Each of these pages of the story site gets a text of its own."""
    import random
    from urllib.parse import urlsplit

    from tests.story_site import _paragraph, pages, plan

    rng = random.Random(7)
    by_path = {page.path: page for page in plan(STORIES).pages}
    for number, url in enumerate(sorted(urls)):
        page = by_path[urlsplit(url).path]
        paragraphs = [_paragraph(rng, 90_000 + number * 10 + i) for i in range(4)]
        pages.write(site / page.path.lstrip("/"), pages.page(page.path, page.title, page.published, paragraphs))


def _rows_of(db_path: Path, table: str) -> set:
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        return set(connection.execute(f"SELECT * FROM {table}").fetchall())


def test_a_disk_that_fills_up_while_refresh_stores_new_texts_of_duplicate_urls_loses_nothing(story_archive, tmp_path):
    """The story site's exact copies now carry texts of their own: `crawl --refresh` stores each as an article
    (tests/test_refetched_texts.py), writing their WARC records and rows batch by batch. The disk fills mid-way."""
    import sqlite3

    with sqlite3.connect(story_archive / "archive.db") as connection:
        changed = sorted(row[0] for row in connection.execute("SELECT url FROM duplicates WHERE kind = 'exact'"))
    assert len(changed) > 15
    site = tmp_path / "site"
    shutil.copytree(story_archive.parent / "site", site)
    _rewrite(site, changed)
    port = int((story_archive.parent / "port").read_text())
    new_texts = f"SELECT COUNT(*) FROM articles WHERE url IN ({', '.join(repr(url) for url in changed)})"
    with SiteServer(site, port=port) as server:
        args = ["crawl", str(site / "source.toml"), "--db", f"{DISK}/archive.db", "--base-url", server.origin, "--local",
                *BATCH, "--refresh"]
        measured = run_on_full_disk(tmp_path / "measure", story_archive, args, None)
        assert measured.code == 0, measured.stderr[-3000:]
        assert _count(measured.saved / "archive.db", new_texts) == len(changed)
        full = run_on_full_disk(tmp_path / "full", story_archive, args, measured.peak_growth // 2)
        _named_the_disk(full)
        assert "arshif: the crawl stopped:" in full.stderr, full.stderr[-3000:]
        archive = full.saved / "archive.db"
        assert _count(archive, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == "failed"
        assert _count(archive, new_texts) < len(changed)  # it landed inside the refresh: not every new text is in
        before = story_archive / "archive.db"
        assert _rows_of(before, "articles") <= _rows_of(archive, "articles")  # no archived article lost or changed
        for table in ("duplicates", "versions"):  # the exact rows stay as the record of what the URLs were
            assert _rows_of(archive, table) == _rows_of(before, table), table
        assert _count(archive, "SELECT COUNT(*) - COUNT(DISTINCT url) FROM articles") == 0
        kept = _rows(before)["warc"]
        assert {name: digest for name, digest in _rows(archive)["warc"].items() if name in kept} == kept

        clean = _copy_folder(story_archive, tmp_path / "clean")
        _crawled(crawl(str(site / "source.toml"), clean / "archive.db", server.origin, *BATCH, "--refresh"))
        _crawled(crawl(str(site / "source.toml"), archive, server.origin, *BATCH, "--refresh"))  # space is free again
    assert _count(archive, new_texts) == len(changed)
    assert _same(archive, clean / "archive.db")


if __name__ == "__main__":
    _drive(json.loads(sys.argv[1]))
