"""`arshif crawl --all` on the shipped seeds, as shipped, against local copies of their sites (issue 20's "Done when").

No --base-url and no edited source file: the crawl runs in a network and mount
namespace the test creates (`unshare -n -m`, or `-r -n -m` without root), where
/etc/hosts (bind-mounted) sends every host the seeds name to a public-looking
address on the namespace's loopback device and tests/seed_web.py answers there
on :80 and :443; the demo seed's own site runs on 127.0.0.1:8642 as its file says.
Each seed's copy is generated from the seed (tests/seed_web.py): an article
linked from its start page, one in its feed, one in its sitemap.

Run 1: every seed finishes with exactly its generated articles stored, one
summary line per source, exit 0. Run 2, the next hour on the same archive, with
one site down (its hosts answer connection refused): that source is reported as
having yielded no article (exit 2, README "Exit codes") in one line, and every
other source still finishes, and the down site is one line in the log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from sqlite_utils import Database

from crawler.sources import SEEDS_DIR, all_sources
from tests.conftest import PROJECT_DIR
from tests.seed_web import build_site

DOWN = "aljazeera"  # the seed whose site is down in the second run

DRIVER = r"""
import json, os, subprocess, sys
from pathlib import Path
sys.path.insert(0, os.getcwd())
from crawler.demo.server import DEMO_SITE, SiteServer
from crawler.sources import SEEDS_DIR, all_sources
from tests.seed_web import DOWN_ADDRESS, PUBLIC_ADDRESS, SeedWeb, build_site, self_signed

work, down = Path(sys.argv[1]), sys.argv[2]
for address in (PUBLIC_ADDRESS, DOWN_ADDRESS):
    subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
sites = [build_site(source) for source in all_sources() if source.name != "demo"]
hosts = sorted({host for site in sites for host in site.hosts})
cert, key = self_signed(work, hosts)
hosts_file = work / "hosts"

def point(down_hosts=()):
    lines = ["127.0.0.1 localhost"] + [f"{DOWN_ADDRESS if h in down_hosts else PUBLIC_ADDRESS} {h}" for h in hosts]
    with open(hosts_file, "w") as out:  # rewritten in place: the bind mount shows the same file
        out.write("\n".join(lines) + "\n")

point()
subprocess.run(["mount", "--bind", str(hosts_file), "/etc/hosts"], check=True)
json.dump({site.source.name: [vars(a) | {"published": a.published.isoformat()} for a in site.articles] for site in sites},
          open(work / "articles.json", "w"), ensure_ascii=False)
results = []
with SeedWeb(sites, PUBLIC_ADDRESS, cert, key), SiteServer(DEMO_SITE, port=8642):
    for run, down_hosts in (("first", ()), ("second", next(s.hosts for s in sites if s.source.name == down))):
        point(down_hosts)
        # the first run names every shipped file (the demo too: `--all` leaves it out, scheduled = false)
        which = sorted(str(path) for path in SEEDS_DIR.glob("*.toml")) if run == "first" else ["--all"]
        done = subprocess.run([sys.executable, "-m", "crawler.cli.main", "crawl", *which, "--db", str(work / "archive.db"),
                               "--local", "-s", "ARSHIF_BATCH_SIZE=2"], capture_output=True, text=True, timeout=600)
        results.append({"run": run, "code": done.returncode, "stdout": done.stdout, "stderr": done.stderr})
json.dump(results, open(work / "results.json", "w"), ensure_ascii=False)
"""


def _namespace_flags() -> list[str] | str:
    """The unshare options that give a network + mount namespace where lo and /etc/hosts can be set, or why not."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "no unshare or ip command (util-linux, iproute2)"
    for flags in (["-n", "-m"], ["-r", "-n", "-m"]):
        probe = subprocess.run(["unshare", *flags, "sh", "-c", "ip link set lo up && mount --bind /etc/hosts /etc/hosts"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return flags
    return f"no network + mount namespace can be made here: {probe.stderr.strip()[:200]}"


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory):
    flags = _namespace_flags()
    if isinstance(flags, str):
        pytest.skip(flags)
    work = tmp_path_factory.mktemp("shipped-seeds")
    (work / "driver.py").write_text(DRIVER, encoding="utf-8")
    done = subprocess.run(["unshare", *flags, sys.executable, str(work / "driver.py"), str(work), DOWN],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["run"]: r for r in json.loads((work / "results.json").read_text(encoding="utf-8"))}
    articles = json.loads((work / "articles.json").read_text(encoding="utf-8"))
    return results, articles, Database(work / "archive.db")


def test_every_generated_seed_site_derives_from_its_seed():
    """Each non-demo seed gets an article per discovery path it has, on its own hosts, matching its patterns."""
    for source in all_sources():
        if source.name == "demo":
            continue
        site = build_site(source)
        places = {a.found_by for a in site.articles}
        assert places == {"start page", *(["feed"] if source.feeds else []), *(["sitemap"] if source.sitemaps else [])}
        for article in site.articles:
            host = urlsplit(article.url).hostname
            assert any(host == d or host.endswith("." + d) for d in source.allowed_domains), (source.name, article.url)


def test_all_shipped_seeds_crawl_as_shipped_and_store_their_own_articles(seed_runs):
    results, articles, db = seed_runs
    first = results["first"]
    assert first["code"] == 0, first["stderr"][-4000:]
    names = sorted(path.stem for path in SEEDS_DIR.glob("*.toml"))
    assert len(names) == 23
    rows = {row["source"]: row for row in db.query("SELECT * FROM crawls WHERE id IN (SELECT MIN(id) FROM crawls GROUP BY source)")}
    assert sorted(rows) == names
    for name in names:
        assert rows[name]["status"] == "finished", (name, rows[name]["error"])
        stored = {row["url"] for row in db.query("SELECT url FROM articles WHERE source = ?", [name])}
        if name == "demo":
            assert rows[name]["stored"] > 0 and all(urlsplit(url).hostname == "127.0.0.1" for url in stored)
            continue
        expected = {article["url"] for article in articles[name]}
        assert stored == expected, (name, sorted(expected - stored), sorted(stored - expected))
        assert rows[name]["stored"] == len(expected)
        line = next(line for line in first["stdout"].splitlines() if line.startswith(f"{name}: "))
        assert f"{len(expected)} articles stored" in line and "finished" in line, line
    assert "23 sources: 23 finished, 0 failed, 0 yielded no article" in first["stdout"]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_site_down_on_the_next_run_is_reported_and_the_others_finish(seed_runs):
    results, articles, db = seed_runs
    second = results["second"]
    assert second["code"] == 2, second["stderr"][-4000:]  # README "Exit codes": a source yielded no article at all
    rows = {row["source"]: row for row in db.query("SELECT * FROM crawls WHERE id IN (SELECT MAX(id) FROM crawls GROUP BY source)")}
    assert len(rows) == 23 and all(row["status"] == "finished" for row in rows.values())
    assert rows[DOWN]["stored"] == 0 and rows[DOWN]["pages_fetched"] == 0
    # `--all` leaves out the demo (scheduled = false): 22 sources, and a note saying so on stdout
    assert db.execute("SELECT COUNT(*) FROM crawls WHERE source = 'demo'").fetchone()[0] == 1
    assert "arshif crawl --all: left out demo (scheduled = false in " in second["stdout"]
    assert "22 sources: 21 finished, 0 failed, 1 yielded no article" in second["stdout"]
    assert f"arshif: warning: source {DOWN} yielded no article at all" in second["stderr"]
    # the down site is one line in the log, not a traceback or an ERROR per request
    about = [line for line in second["stderr"].splitlines() if "aljazeera.net" in line]
    assert about == [line for line in about if f"Source {DOWN}: cannot reach www.aljazeera.net (connection_refused)" in line]
    assert len(about) == 1, about
    assert "Traceback" not in second["stderr"]
    # nothing archived changed: every article of the first run is still there, none twice
    total = sum(len(found) for found in articles.values())
    assert db.execute("SELECT COUNT(*) FROM articles WHERE source != 'demo'").fetchone()[0] == total
