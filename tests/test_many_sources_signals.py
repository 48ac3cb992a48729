"""SIGTERM (and a second one, Scrapy's forced shutdown) during `arshif crawl --all`.

Three local sources (generated Arabic sites, different texts), each with more
article pages than the batch size, served slowly enough that the run is mid-way
when the signal comes. The test waits on a real event (articles committed to the
archive, read through SQLite), never on a guessed sleep, then signals the real
`arshif` process. Asserted: the documented exit code (1: the run did not finish),
every source's `crawls` row closed (`killed`, not `running`), the archive intact
with nothing duplicated, the lock released, and a re-run completing to the same
articles a clean crawl stores.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlite_utils import Database

from bench.throughput.generate import generate
from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR
from tests.gated_site import HANG_GUARD, gate_requests, wait_until
from tests.test_write_failures import _check

SOURCES = ("north", "south", "east")
PAGES = 40
BATCH = 3  # far below each source's article count


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("signal-sites")
    folders = {}
    for number, name in enumerate(SOURCES, start=1):
        folder = root / name
        generate(PAGES, folder, seed=number)
        folders[name] = folder
    seeds = root / "seeds"
    seeds.mkdir()
    servers = [SiteServer(folders[name], delay=0.03) for name in SOURCES]
    for server in servers:
        server.__enter__()
    lines = []
    for name, server in zip(SOURCES, servers):
        text = (folders[name] / "bench.toml").read_text(encoding="utf-8").replace('name = "bench"', f'name = "{name}"')
        (seeds / f"{name}.toml").write_text(text, encoding="utf-8")
        lines.append(f'{name} = "{server.origin}"\n')
    base_map = root / "base-urls.toml"
    base_map.write_text("".join(lines), encoding="utf-8")
    yield seeds, base_map, servers
    for server in servers:
        server.__exit__(None, None, None)


def _argv(seeds, base_map, db) -> list[str]:
    return [sys.executable, "-m", "crawler.cli.main", "crawl", "--all", "--seeds", str(seeds), "--db", str(db),
            "--base-url-map", str(base_map), "--local", "-s", f"ARSHIF_BATCH_SIZE={BATCH}"]


def _committed(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def _interrupt(argv: list[str], db, tmp_path, signals: int, servers) -> tuple[int, str, str, int]:
    """Start the run, wait until it has committed articles, send SIGTERM `signals` times; its code, output, and the count seen.

    Each of `servers` (the sites the run crawls) answers 10 of its article pages and holds the others until the
    signals are sent: every source is still running then, however loaded the machine is (a source of 40 pages
    could finish before the signal, and its row say `finished`)."""
    out, err = open(tmp_path / "stdout", "w"), open(tmp_path / "stderr", "w")  # noqa: SIM115 - closed below
    with contextlib.ExitStack() as stack:
        gates = [stack.enter_context(gate_requests(server, 10, gated=lambda path: path.startswith("/articles/")))
                 for server in servers]
        process = subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=out, stderr=err)
        for gate in gates:
            gate.wait_held()
        wait_until(lambda: process.poll() is not None or _committed(db) >= 2 * BATCH, f"{2 * BATCH} articles committed")
        assert process.poll() is None, "the run ended before it could be signalled"
        seen = _committed(db)
        process.send_signal(signal.SIGTERM)
        if signals == 2:  # the second once Scrapy has taken the first (its log line), as an impatient operator would
            while "shutting down gracefully" not in (tmp_path / "stderr").read_text() and process.poll() is None:
                time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=HANG_GUARD)  # the gates are open: the requests in flight end
    out.close()
    err.close()
    return code, (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text(), seen


def _articles(db) -> dict[str, str]:
    return {row["url"]: row["content_hash"] for row in Database(db).query("SELECT url, content_hash FROM articles")}


def _archive(db) -> tuple[set, set]:
    """What a crawl archives, whichever copy of an exact duplicate it met first: the texts, and every URL kept."""
    texts = {row["content_hash"] for row in Database(db).query("SELECT content_hash FROM articles")}
    urls = {row["url"] for row in Database(db).query("SELECT url FROM articles UNION SELECT url FROM duplicates")}
    return texts, urls


@pytest.fixture(scope="module")
def clean(sites, tmp_path_factory):
    seeds, base_map, _ = sites
    db = tmp_path_factory.mktemp("clean") / "archive.db"
    done = subprocess.run(_argv(seeds, base_map, db), cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return _articles(db), _archive(db)


@pytest.mark.parametrize("signals", [1, 2], ids=["sigterm", "second-sigterm"])
def test_sigterm_during_all_closes_every_run_and_the_next_run_completes(sites, clean, tmp_path, signals):
    seeds, base_map, servers = sites
    db = tmp_path / "archive.db"
    code, stdout, stderr, seen = _interrupt(_argv(seeds, base_map, db), db, tmp_path, signals, servers)
    assert code == 1, stderr[-3000:]  # README "Exit codes": the run did not finish
    rows = list(Database(db).query("SELECT * FROM crawls ORDER BY id"))
    assert sorted(row["source"] for row in rows) == sorted(SOURCES)
    assert all(row["status"] == "killed" for row in rows), [(row["source"], row["status"]) for row in rows]
    assert "3 sources: 0 finished, 3 failed" in stdout, stdout[-2000:]
    for row in rows:
        assert row["finished_at"] and row["stored"] == Database(db).execute(
            "SELECT COUNT(*) FROM articles WHERE crawl_id = ?", [row["id"]]).fetchone()[0]
        if signals == 2:  # the reactor stopped before the pipelines closed: the run closes the rows itself
            assert "second SIGTERM" in row["error"], row["error"]
    _check(db)
    kept = _articles(db)
    assert len(kept) >= seen  # nothing committed before the signal was lost
    assert set(kept.values()) <= set(clean[0].values())

    again = subprocess.run(_argv(seeds, base_map, db), cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
                           check=False)
    assert again.returncode == 0, again.stderr[-3000:]  # not 3: the lock was released
    _check(db)
    after = _articles(db)
    assert all(after[url] == digest for url, digest in kept.items())
    assert len(after) == len(set(after.values()))  # no text stored twice
    assert _archive(db) == clean[1]
    assert Database(db).execute("SELECT COUNT(*) FROM crawls WHERE status = 'running'").fetchone()[0] == 0


def test_a_second_sigterm_of_one_source_closes_its_run(sites, tmp_path):
    """`arshif crawl SOURCE` (one source, its own code path): the forced shutdown leaves no `running` row either."""
    seeds, base_map, servers = sites
    db = tmp_path / "archive.db"
    origin = base_map.read_text(encoding="utf-8").splitlines()[0].split('"')[1]
    argv = [sys.executable, "-m", "crawler.cli.main", "crawl", str(seeds / f"{SOURCES[0]}.toml"), "--db", str(db),
            "--base-url", origin, "--local", "-s", f"ARSHIF_BATCH_SIZE={BATCH}"]
    code, stdout, stderr, seen = _interrupt(argv, db, tmp_path, 2, servers[:1])
    assert code == 1, stderr[-3000:]
    row = next(Database(db).query("SELECT * FROM crawls"))
    assert row["status"] == "killed" and "second SIGTERM" in row["error"], row
    assert row["stored"] == Database(db)["articles"].count >= seen
    assert f"crawl {row['id']}, killed" in stdout
    _check(db)
