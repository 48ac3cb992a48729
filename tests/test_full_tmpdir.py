"""A full TMPDIR under a spilling frontier (crawler/frontier.py): one message, a failed run, nothing archived lost.

The frontier keeps what does not fit its memory window in a temporary SQLite
file, which SQLite puts in TMPDIR. The crawl runs in its own mount namespace
(`unshare -m`, or `-rm` without root) with TMPDIR on a 2 MB tmpfs, and the site's
sitemap index lists, next to its real sitemap, one of 100,000 URLs: the frontier
outgrows its page cache, writes its file, and the tmpfs fills. Before the fix,
every page's callback then failed with a traceback and the run's `crawls` row had
no error. Now: one line naming the frontier and the folder, `crawls.status`
failed with the cause, exit 1; the next run (TMPDIR fine, the big sitemap gone)
completes to the archive a clean crawl gives.
"""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest
from sqlite_utils import Database

from bench.throughput.generate import generate
from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR, crawl
from tests.mount_namespace import can_mount
from tests.test_write_failures import _check

LISTED = 100_000  # packed pending entries far past the frontier file's 4 MB page cache
TMPFS = "2m"
BATCH = "5"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    generate(60, folder)
    return folder


def _big_sitemap(origin: str) -> dict:
    """Routes for a sitemap index naming the site's own sitemap and one of LISTED article URLs (never served)."""
    urls = "".join(f"<url><loc>{origin}/articles/{1_000_000 + n}.html</loc></url>" for n in range(LISTED))
    big = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<sitemap><loc>{origin}/big.xml.gz</loc></sitemap>"
             f"<sitemap><loc>{origin}/sitemaps/articles-1.xml</loc></sitemap></sitemapindex>")
    return {"/sitemap.xml": (200, {"Content-Type": "application/xml"}, index.encode()),
            "/big.xml.gz": (200, {"Content-Type": "application/x-gzip"}, gzip.compress(big.encode()))}


def test_a_full_tmpdir_under_the_frontier_fails_the_run_once_and_the_next_run_completes(tmp_path, site):
    flag = can_mount()
    if flag not in ("-m", "-rm"):
        pytest.skip(f"no small tmpfs can be mounted here: {flag}")
    tmpdir, db, clean = tmp_path / "tmpdir", tmp_path / "archive.db", tmp_path / "clean.db"
    tmpdir.mkdir()
    source = str(site / "bench.toml")
    with SiteServer(site) as server:
        server.httpd.RequestHandlerClass.extra_routes = _big_sitemap(server.origin)
        command = " ".join([sys.executable, "-m", "crawler.cli.main", "crawl", source, "--db", str(db), "--base-url",
                            server.origin, "--local", "-s", f"ARSHIF_BATCH_SIZE={BATCH}"])
        script = (f"mount -t tmpfs -o size={TMPFS} tmpfs {tmpdir} && cd {PROJECT_DIR} && "
                  f"TMPDIR={tmpdir} {command} > {tmp_path}/stdout 2> {tmp_path}/stderr")
        failed = subprocess.run(["unshare", flag, "sh", "-c", script], capture_output=True, text=True, timeout=300,
                                check=False)
        stdout, stderr = (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()
        assert failed.returncode == 1, stderr[-3000:]
        assert "Traceback" not in stderr, stderr[-3000:]
        lines = [line for line in stderr.splitlines() if "Cannot write the crawl's frontier" in line]
        assert len(lines) == 1 and f"temporary file in {tmpdir}" in lines[0] and "full" in lines[0], stderr[-3000:]
        row = next(Database(db).query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
        assert row["status"] == "failed" and "frontier" in row["error"] and "full" in row["error"], row
        assert row["stored"] >= 0 and f"crawl {row['id']}, failed" in stdout
        _check(db)
        kept = {r["url"]: r["content_hash"] for r in Database(db).query("SELECT url, content_hash FROM articles")}

        server.httpd.RequestHandlerClass.extra_routes = {}  # TMPDIR fine again, the big sitemap gone
        again = crawl(source, db, server.origin, "-s", f"ARSHIF_BATCH_SIZE={BATCH}")
        reference = crawl(source, clean, server.origin, "-s", f"ARSHIF_BATCH_SIZE={BATCH}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert reference.returncode == 0, reference.stderr[-3000:]
    _check(db)
    after = {r["url"]: r["content_hash"] for r in Database(db).query("SELECT url, content_hash FROM articles")}
    assert all(after.get(url) == digest for url, digest in kept.items())  # nothing stored before was lost or changed
    assert set(after) == {r["url"] for r in Database(clean).query("SELECT url FROM articles")}
