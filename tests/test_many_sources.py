"""`arshif crawl --all` / `arshif crawl A B`: many sources, one process, one archive writer.

Real `arshif` processes and the real Scrapy engine against local sites: the shipped demo seed,
a mirror of it (another source serving the same pages: cross-source copies) and the dedup test
site, each on its own server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlite_utils import Database

from crawler.demo.server import DEMO_SITE, SiteServer
from tests.conftest import PROJECT_DIR, archive_snapshot, run_arshif
from tests.gated_site import HANG_GUARD, gate_requests, wait_until

DEDUP_SITE = PROJECT_DIR / "tests" / "sites" / "dedup"
BATCH = 3  # smaller than every source's article count: every run writes several batches


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("dedup-day1")
    shutil.copytree(DEDUP_SITE / "day1", root, dirs_exist_ok=True)
    empty = tmp_path_factory.mktemp("empty-site")
    with SiteServer(DEMO_SITE) as demo, SiteServer(DEMO_SITE) as mirror, SiteServer(root) as dedup, \
            SiteServer(empty) as nothing:
        yield {"demo": demo.origin, "mirror": mirror.origin, "dedup-site": dedup.origin, "nothing": nothing.origin}


def seeds_folder(folder: Path, sites: dict, names=("demo", "mirror", "dedup-site")) -> tuple[Path, Path]:
    """A seeds folder with these sources and the --base-url-map file pointing each at its local copy."""
    folder.mkdir(parents=True, exist_ok=True)
    # the demo's file, scheduled: `--all` runs it (the shipped one has scheduled = false)
    demo = (PROJECT_DIR / "seeds" / "demo.toml").read_text(encoding="utf-8").replace("scheduled = false", "scheduled = true")
    texts = {"demo": demo, "mirror": demo.replace('name = "demo"', 'name = "mirror"'),
             "nothing": demo.replace('name = "demo"', 'name = "nothing"'),
             "dedup-site": (DEDUP_SITE / "source.toml").read_text(encoding="utf-8")}
    for name in names:
        (folder / f"{name}.toml").write_text(texts[name], encoding="utf-8")
    base_map = folder.parent / f"{folder.name}-base-urls.toml"
    base_map.write_text("".join(f'{name} = "{sites[name]}"\n' for name in names if name in sites), encoding="utf-8")
    return folder, base_map


def crawl_all(seeds: Path, base_map: Path, db: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "crawler.cli.main", "crawl", "--all", "--seeds", str(seeds), "--db", str(db),
            "--base-url-map", str(base_map), "--local", "-s", f"ARSHIF_BATCH_SIZE={BATCH}", *extra]
    return subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def crawls(db: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in Database(db).query("SELECT * FROM crawls ORDER BY id"):
        rows.setdefault(row["source"], []).append(row)
    return rows


@pytest.fixture(scope="module")
def all_run(sites, tmp_path_factory):
    folder = tmp_path_factory.mktemp("all")
    seeds, base_map = seeds_folder(folder / "seeds", sites)
    db = folder / "archive.db"
    return crawl_all(seeds, base_map, db), db


def test_all_sources_in_one_run_each_with_its_crawls_row(all_run):
    result, db = all_run
    assert result.returncode == 0, result.stderr[-3000:]
    rows = crawls(db)
    assert sorted(rows) == ["dedup-site", "demo", "mirror"]
    for source, (row,) in rows.items():  # one row per source per run
        assert row["status"] == "finished", row
        assert row["pages_fetched"] > 0
        assert f"{source}: {row['pages_fetched']} pages fetched, {row['stored']} articles stored" in result.stdout
    assert "3 sources: 3 finished, 0 failed, 0 yielded no article" in result.stdout
    # one writer: every article id once, each row's crawl is its own source's
    by_crawl = {row["id"]: source for source, (row,) in rows.items()}
    for source, crawl_id in Database(db).execute("SELECT source, crawl_id FROM articles").fetchall():
        assert by_crawl[crawl_id] == source
    stored = sum(row["stored"] for (row,) in rows.values())
    assert stored == Database(db)["articles"].count > 3 * BATCH  # several batches of the shared writer
    # the mirror's pages are the demo's: each copy stored once across the two sources
    texts = Database(db).execute("SELECT COUNT(*), COUNT(DISTINCT content_hash) FROM articles").fetchone()
    assert texts[0] == texts[1]
    assert rows["mirror"][0]["duplicate"] + rows["demo"][0]["duplicate"] >= rows["demo"][0]["stored"]


def test_all_equals_sequential_single_source_runs(all_run, sites, tmp_path):
    """The same articles, stories and duplicates (by URL, original and kind) as one source after another.

    Within one run the copy that ranks first is the article (pipelines/dedup.py: earliest date,
    own address, smallest canonical URL); across runs the earlier run's copy stays. So the
    sequential runs go in the order of the sites' origins, the order that rank gives to the copies
    the demo and its mirror share."""
    _, db = all_run
    sequential = tmp_path / "sequential.db"
    for name in sorted(["demo", "mirror", "dedup-site"], key=lambda n: sites[n]):
        source = PROJECT_DIR / "tests" / "sites" / "dedup" / "source.toml" if name == "dedup-site" else None
        if name == "mirror":
            source = tmp_path / "mirror.toml"
            source.write_text((PROJECT_DIR / "seeds" / "demo.toml").read_text(encoding="utf-8")
                              .replace('name = "demo"', 'name = "mirror"'), encoding="utf-8")
        result = run_arshif("crawl", str(source or "demo"), "--db", str(sequential), "--base-url", sites[name],
                            "--local", "-s", f"ARSHIF_BATCH_SIZE={BATCH}")
        assert result.returncode == 0, result.stderr[-3000:]
    together, apart = archive_snapshot(Database(db)), archive_snapshot(Database(sequential))
    assert together["articles"] == apart["articles"]
    assert together["stories"] == apart["stories"]
    assert _by_url_and_original(together) == _by_url_and_original(apart)
    # and their kinds: decided by each page (fetched at its own address with the article's text: exact; under an
    # alias: url), not by which copy or alias arrived first (issue 17 point 4)
    assert together["duplicates"] == apart["duplicates"]
    kinds = Counter(kind for _, kind, _ in together["duplicates"])
    assert kinds["url"] and kinds["exact"], kinds  # both kinds are met: the sites have aliases and copies
    assert len(together["duplicates"]) > 10


def _by_url_and_original(snapshot: dict) -> set:
    return {(url, original) for url, _, original in snapshot["duplicates"]}


def test_second_run_of_the_same_sources_finds_nothing_new_and_exits_0(all_run, sites, tmp_path):
    _, db = all_run
    copy = tmp_path / "archive.db"
    from tests.conftest import copy_archive

    copy_archive(db, copy)
    before = archive_snapshot(Database(copy))
    seeds, base_map = seeds_folder(tmp_path / "seeds", sites)
    result = crawl_all(seeds, base_map, copy)
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(copy)) == before
    assert all(len(rows) == 2 and rows[-1]["stored"] == 0 for rows in crawls(copy).values())


def test_a_broken_source_file_fails_alone(sites, tmp_path):
    seeds, base_map = seeds_folder(tmp_path / "seeds", sites, names=("demo",))
    (seeds / "broken.toml").write_text('name = "broken"\nsite_url = "http://127.0.0.1:1/"\nmax_pagez = 3\n',
                                       encoding="utf-8")
    db = tmp_path / "archive.db"
    result = crawl_all(seeds, base_map, db)
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"source broken failed: {seeds / 'broken.toml'}: max_pagez: unknown key" in result.stderr
    rows = crawls(db)
    assert rows["demo"][0]["status"] == "finished" and rows["demo"][0]["stored"] > 0
    assert rows["broken"][0]["status"] == "failed"
    assert "max_pagez" in rows["broken"][0]["error"]


def test_named_sources_with_base_urls_and_one_that_yields_nothing_exits_2(sites, tmp_path):
    """`arshif crawl A B --base-url A=URL --base-url B=URL`: the sources named, not --all."""
    seeds, _ = seeds_folder(tmp_path / "seeds", sites, names=("demo", "nothing"))
    db = tmp_path / "archive.db"
    result = run_arshif("crawl", str(seeds / "demo.toml"), str(seeds / "nothing.toml"), "--db", str(db), "--local",
                        "--base-url", f"demo={sites['demo']}", "--base-url", f"nothing={sites['nothing']}")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "source nothing yielded no article at all" in result.stderr
    rows = crawls(db)
    assert rows["nothing"][0]["status"] == "finished" and rows["nothing"][0]["stored"] == 0
    assert rows["demo"][0]["stored"] > 0


def test_an_unreachable_source_does_not_stop_the_others(sites, tmp_path):
    seeds, base_map = seeds_folder(tmp_path / "seeds", {**sites, "nothing": "http://127.0.0.1:9"},
                                   names=("demo", "nothing"))
    db = tmp_path / "archive.db"
    result = crawl_all(seeds, base_map, db)
    assert result.returncode == 2, result.stderr[-3000:]
    assert crawls(db)["demo"][0]["stored"] > 0


def test_overlapping_runs_second_exits_3_without_touching_anything(tmp_path):
    """Two `arshif crawl --all` processes, as two overlapping cron entries start them."""
    # the mirror's site holds every request until the second run has ended: the first run is still writing
    # then, however loaded the machine is (it was a slow site and a race: ~3 s left for the second run to start)
    with SiteServer(DEMO_SITE, delay=0.2) as slow, SiteServer(DEMO_SITE) as held, gate_requests(held, 0) as gate:
        seeds, base_map = seeds_folder(tmp_path / "seeds", {"demo": slow.origin, "mirror": held.origin},
                                       names=("demo", "mirror"))
        db = tmp_path / "archive.db"
        argv = [sys.executable, "-m", "crawler.cli.main", "crawl", "--all", "--seeds", str(seeds), "--db", str(db),
                "--base-url-map", str(base_map), "--local", "-s", f"DOWNLOAD_TIMEOUT={HANG_GUARD}"]
        first = subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            gate.wait_held()
            wait_until(lambda: db.exists() and Database(db)["crawls"].exists() and Database(db)["crawls"].count >= 2,
                       "both sources' crawls rows")
            mtimes = {path.name: path.stat().st_mtime_ns for path in tmp_path.glob("archive.db*")}
            second = subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=HANG_GUARD, check=False)
            assert first.poll() is None  # the first run was still writing
            assert second.returncode == 3, second.stderr[-2000:]
            assert f"another Arshif run (pid {first.pid}) is writing" in second.stderr
            assert second.stdout == ""
        finally:
            gate.open()
            _, err = first.communicate(timeout=HANG_GUARD)
    assert first.returncode == 0, err[-3000:]
    assert {source: len(rows) for source, rows in crawls(db).items()} == {"demo": 1, "mirror": 1}
    assert set(mtimes) <= {path.name for path in tmp_path.glob("archive.db*")}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_on_failure_webhook_and_command_get_the_json_summary(sites, tmp_path):
    seeds, base_map = seeds_folder(tmp_path / "seeds", sites, names=("demo",))
    (seeds / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        db = tmp_path / "archive.db"
        result = crawl_all(seeds, base_map, db, env={"ARSHIF_ON_FAILURE": f"http://127.0.0.1:{server.server_address[1]}/hook"})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr[-3000:]
    ((content_type, summary),) = _Hook.received
    assert content_type.startswith("application/json")
    assert summary["exit"] == 1 and summary["failed"] == ["broken"] and summary["archive"] == str(db)
    by_source = {entry["source"]: entry for entry in summary["sources"]}
    assert "site_url: missing required key" in by_source["broken"]["error"]
    assert by_source["demo"]["status"] == "finished" and by_source["demo"]["stored"] > 0

    # a command, argv split by shlex, never a shell: the quotes and `;` stay in its argument
    out = tmp_path / "summary; touch pwned.json"
    command = f'{sys.executable} -c "import sys; open(sys.argv[1], \'wb\').write(sys.stdin.buffer.read())" "{out}"'
    result = crawl_all(seeds, base_map, db, env={"ARSHIF_ON_FAILURE": command})
    assert result.returncode == 1
    assert json.loads(out.read_text(encoding="utf-8"))["failed"] == ["broken"]
    assert not (PROJECT_DIR / "pwned.json").exists()


def test_a_failing_or_hanging_hook_is_logged_and_changes_nothing(sites, tmp_path):
    seeds, base_map = seeds_folder(tmp_path / "seeds", sites, names=("demo",))
    (seeds / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    db = tmp_path / "archive.db"
    result = crawl_all(seeds, base_map, db, env={"ARSHIF_ON_FAILURE": "sleep 60", "ARSHIF_ON_FAILURE_TIMEOUT": "1"})
    assert result.returncode == 1  # the run's own code, not the hook's
    assert "ARSHIF_ON_FAILURE hook failed: the command did not finish in 1 s" in result.stderr
    before = archive_snapshot(Database(db))
    result = crawl_all(seeds, base_map, db, env={"ARSHIF_ON_FAILURE": "http://127.0.0.1:9/unreachable"})
    assert result.returncode == 1
    assert "ARSHIF_ON_FAILURE hook failed: the webhook could not be reached" in result.stderr
    assert archive_snapshot(Database(db)) == before  # the second run found nothing new; the hook wrote nothing
    assert [row["status"] for row in crawls(db)["broken"]] == ["failed", "failed"]



def test_disk_full_stops_every_source_and_the_next_run_resumes(tmp_path):
    """The archive's own failure is every source's: all stop, each `crawls` row says failed, nothing is
    half-written, and the next `--all` brings the archive to what a clean run stores."""
    from bench.throughput.generate import generate
    from tests.mount_namespace import can_mount
    from tests.test_write_failures import DISK_MB, _check

    flag = can_mount()
    if flag not in ("-m", "-rm"):
        pytest.skip(flag)
    site = tmp_path / "site"
    generate(300, site)
    mount, saved = tmp_path / "small", tmp_path / "saved"
    mount.mkdir()
    # the demo answers slowly (3 s a page, four levels deep): it is still crawling when the disk fills
    with SiteServer(site) as big, SiteServer(DEMO_SITE, delay=3) as demo:
        seeds, base_map = seeds_folder(tmp_path / "seeds", {"demo": demo.origin}, names=("demo",))
        shutil.copy(site / "bench.toml", seeds / "bench.toml")
        base_map.write_text(base_map.read_text() + f'bench = "{big.origin}"\n', encoding="utf-8")
        command = " ".join([sys.executable, "-m", "crawler.cli.main", "crawl", "--all", "--seeds", str(seeds),
                            "--db", str(mount / "archive.db"), "--base-url-map", str(base_map), "--local",
                            "-s", "ARSHIF_BATCH_SIZE=10"])
        script = (f"mount -t tmpfs -o size={DISK_MB}m tmpfs {mount} && cd {PROJECT_DIR} && "
                  f"{{ {command} > {tmp_path}/stdout 2> {tmp_path}/stderr; rc=$?; }}; cp -a {mount} {saved}; exit $rc")
        full = subprocess.run(["unshare", flag, "sh", "-c", script], capture_output=True, text=True, timeout=300,
                              check=False)
        stderr = (tmp_path / "stderr").read_text(encoding="utf-8", errors="replace")
        assert full.returncode == 1, (full.returncode, full.stderr, stderr[-3000:])
        db_path = saved / "archive.db"
        rows = crawls(db_path)
        assert sorted(rows) == ["bench", "demo"]
        for (row,) in rows.values():  # the still-running demo stopped too, with the archive's cause
            assert row["status"] == "failed", row
            assert "No space left" in row["error"] or "disk is full" in row["error"], row
        _check(db_path)
        resumed = crawl_all(seeds, base_map, db_path)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        clean = tmp_path / "clean" / "archive.db"
        assert crawl_all(seeds, base_map, clean).returncode == 0
    _check(db_path)
    query = "SELECT url FROM articles UNION ALL SELECT url FROM duplicates ORDER BY 1"
    assert [r["url"] for r in Database(db_path).query(query)] == [r["url"] for r in Database(clean).query(query)]


def test_the_collector_stays_tuned_until_the_last_source_stops():
    """`--all` runs one crawler per source in one process: the first to stop must not undo the tuning."""
    import gc

    from scrapy.utils.test import get_crawler

    from crawler.extensions import GarbageCollectionTuning

    before = gc.get_threshold()
    first, second = (GarbageCollectionTuning.from_crawler(get_crawler(settings_dict={"ARSHIF_GC_THRESHOLD": 12_345}))
                     for _ in range(2))
    try:
        first.engine_started()
        second.engine_started()
        first.engine_stopped()
        assert gc.get_threshold() == (12_345, *before[1:]) and gc.get_freeze_count() > 0
    finally:
        first.engine_stopped()  # a second call changes nothing
        second.engine_stopped()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_file_named_twice_runs_once_and_two_files_of_one_source_are_named(tmp_path):
    """`crawl demo demo` crawls demo once (it used to crawl it, then fail the run as 'given twice');
    two files naming one source: the second fails with both files named."""
    from crawler.many_sources import plan

    runs, loaded = plan(["demo", "demo", str(PROJECT_DIR / "seeds" / "demo.toml")], {})
    assert [(run.name, run.error) for run in runs] == [("demo", None)] and len(loaded) == 1
    copy = tmp_path / "demo-again.toml"
    copy.write_text((PROJECT_DIR / "seeds" / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    runs, loaded = plan(["demo", str(copy)], {})
    assert len(loaded) == 1 and runs[1].error and str(copy) in runs[1].error and "demo.toml" in runs[1].error
