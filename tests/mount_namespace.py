"""A run on a file system that fails for real: a tmpfs of a chosen size (full soon enough) or a WARC folder
turned read-only mid-run, inside a mount namespace of the test's own (`unshare -m`, or `-rm` without root).

The test side calls `run_on_small_disk`; inside the namespace this module runs as the driver
(`python -m tests.mount_namespace SPEC`): it mounts the tmpfs, starts the Arshif command with its archive
there, optionally waits for a point in the run (an SQL count reaching a number) and turns the WARC folder
read-only, waits for the command to end, and copies what it left to `saved` (the tmpfs dies with the
namespace). A file system with a file open for writing cannot be remounted read-only, so the folder is
bind-mounted over itself read-only: every file the run opens there from then on (its next WARC file, a CDXJ
index) fails with EROFS, as on a disk the kernel turned read-only, while a file it already holds open stays
writable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# How far an import is: the records its latest `crawls` row has committed (the counts written with each unit).
IMPORT_RECORDS_COMMITTED = ("SELECT COALESCE(SUM(json_extract(f.value, '$.counts.records')), 0) FROM"
                            " (SELECT import_files FROM crawls ORDER BY id DESC LIMIT 1) c, json_each(c.import_files) f")
ARTICLES_COMMITTED = "SELECT COUNT(*) FROM articles"


def can_mount() -> str | None:
    """The unshare flag that lets a test mount a tmpfs (`-m` as root, `-rm` without), or why none does."""
    if not shutil.which("unshare"):
        return "no unshare command"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            return f"cannot mount a tmpfs in a mount namespace here: {probe.stderr.strip()[:200]}"
        return "-rm"
    return "-m"


@dataclass
class DiskRun:
    """What the command did on the failing disk; `saved` is the copy of the disk (archive.db, warc/) it left."""

    code: int | str  # its exit code, or "timeout"
    committed: int  # the count `until` measured when the folder turned read-only (0 without `until`)
    finished_before: bool  # the command had ended before the folder turned: the failure came too late
    seconds: float  # from the folder turning read-only (else from the start) to the command's end
    stdout: str
    stderr: str
    saved: Path


def run_on_small_disk(work: Path, arshif_args: list[str], size: str, until: str | None = None, at_least: int = 0,
                      wait_seconds: float = 300) -> DiskRun:
    """`arshif ARSHIF_ARGS` with `--db <disk>/archive.db` on a tmpfs of `size`; with `until`, the WARC folder turns
    read-only once that SQL count on the archive reaches `at_least`. Skips the test where no namespace can be made."""
    import pytest

    from tests.conftest import PROJECT_DIR

    flag = can_mount()
    if flag not in ("-m", "-rm"):
        pytest.skip(f"no small or read-only file system can be made here: {flag}")
    disk, saved = work / "disk", work / "saved"
    disk.mkdir()
    spec = {"disk": str(disk), "saved": str(saved), "out": str(work), "size": size, "args": arshif_args,
            "until": until, "at_least": at_least, "wait_seconds": wait_seconds}
    run = subprocess.run(["unshare", flag, sys.executable, "-m", "tests.mount_namespace", json.dumps(spec)], cwd=PROJECT_DIR,
                         check=False, capture_output=True, text=True, timeout=wait_seconds + 300)
    assert run.returncode == 0, run.stderr[-3000:]  # the driver itself (mount, copy) worked
    result = json.loads((work / "result.json").read_text())
    return DiskRun(result["code"], result["committed"], result["finished_before"], result["seconds"],
                   (work / "stdout").read_text(encoding="utf-8", errors="replace"),
                   (work / "stderr").read_text(encoding="utf-8", errors="replace"), saved)


def _count(db: str, sql: str) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(sql).fetchone()[0] or 0
    except sqlite3.Error:  # not made yet, or busy: not there yet
        return 0


def _turn_read_only(folder: str) -> None:
    """Bind the folder over itself read-only, in one command. A WARC file the run opens in between (it may
    rotate every few KB) makes the remount busy: drop that bind and make it again (the run keeps writing)."""
    for _ in range(200):
        if subprocess.run(["mount", "--bind", "-o", "ro", folder, folder], capture_output=True, check=False).returncode == 0:
            return
        subprocess.run(["umount", "-l", folder], capture_output=True, check=False)
    raise SystemExit("the WARC folder could not be made read-only in 200 attempts")


def _drive(spec: dict) -> None:
    import os

    disk, out = spec["disk"], spec["out"]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={spec['size']}", "tmpfs", disk], check=True)
    warc = os.path.join(disk, "warc")
    os.makedirs(warc)
    db = os.path.join(disk, "archive.db")
    with open(os.path.join(out, "stdout"), "w") as stdout, open(os.path.join(out, "stderr"), "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", *spec["args"], "--db", db],
                                   stdout=stdout, stderr=stderr)
        started = time.monotonic()
        committed = 0
        if spec["until"]:
            deadline = started + spec["wait_seconds"]
            while process.poll() is None and time.monotonic() < deadline and committed < spec["at_least"]:
                time.sleep(0.02)
                committed = _count(db, spec["until"])
            _turn_read_only(warc)
            started = time.monotonic()
        finished_before = process.poll() is not None
        try:
            code = process.wait(timeout=spec["wait_seconds"])
        except subprocess.TimeoutExpired:
            process.kill()
            code = "timeout"
        seconds = time.monotonic() - started
    shutil.copytree(disk, spec["saved"])
    with open(os.path.join(out, "result.json"), "w") as result:
        json.dump({"code": code, "seconds": seconds, "committed": committed, "finished_before": finished_before}, result)


if __name__ == "__main__":
    _drive(json.loads(sys.argv[1]))
