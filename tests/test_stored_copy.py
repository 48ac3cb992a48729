"""The stored copy `/-/archived/<id>`: the page as fetched, from its WARC record, sandboxed.

The page is hostile: scripts, a refresh, images, styles, frames and forms aimed at a
server on 127.0.0.1 that counts connections. Through datasette's client the headers
and the markup are checked; in Chromium, nothing runs and nothing is requested.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.archive.database import open_archive
from pipelines.archive.warc import WarcWriter, read_response
from tests.conftest import PROJECT_DIR, copy_archive, make_datasette
from tests.loopback_counter import CountingServer

HOSTILE_PAGE = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="1;url={origin}/refresh">
<title>عنوان الصفحة</title>
<link rel="stylesheet" href="{origin}/style.css"><link rel="prefetch" href="{origin}/prefetch">
<link rel="preconnect" href="{origin}"><link rel="dns-prefetch" href="{origin}">
<style>body {{ background: url({origin}/background.png); }} h1 {{ color: rgb(1, 2, 3); }}</style>
<script src="{origin}/script.js"></script>
<script>document.title = "SCRIPT RAN"; fetch("{origin}/fetch"); new Image().src = "{origin}/beacon";</script>
</head><body><h1 id="headline">وزارة الصحة تطلق حملة وطنية</h1>
<img src="{origin}/pixel.gif"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="inline">
<iframe src="{origin}/frame"></iframe><IFRAME SRC="{origin}/frame2"></IFRAME><object data="{origin}/object"></object>
<form action="{origin}/form" method="post" id="form"><input name="q" value="x"></form>
<a id="link" href="{origin}/link">الرابط</a>
<svg><image href="{origin}/svg-image"></image></svg>
</body></html>"""


def _store_hostile(db_path: Path, origin: str) -> int:
    """Point the first article at a WARC record of the hostile page, in warc/ beside the archive."""
    writer = WarcWriter(db_path.parent / "warc", prefix="arshif-hostile")
    body = HOSTILE_PAGE.format(origin=origin).encode("utf-8")
    ref = writer.write_exchange(url="https://hostile.example/articles/1.html", status_line="200 OK",
                                headers=[("Content-Type", "text/html; charset=utf-8")], body=body)
    writer.close()
    db = open_archive(db_path)
    article_id = db.execute("select min(id) from articles").fetchone()[0]
    with db.conn:
        db.execute("update articles set url = ?, warc_file = ?, warc_offset = ?, warc_length = ? where id = ?",
                   ["https://hostile.example/articles/1.html", ref.file, ref.offset, ref.length, article_id])
    db.close()
    return article_id


@pytest.fixture
def counter():
    server = CountingServer()
    yield server
    server.close()


@pytest.fixture
def hostile_archive(archive_db, counter):
    return archive_db, _store_hostile(archive_db, f"http://127.0.0.1:{counter.port}")


def test_a_record_is_read_by_file_and_offset(hostile_archive):
    db_path, article_id = hostile_archive
    with sqlite3.connect(db_path) as connection:
        name, offset, length = connection.execute(
            "select warc_file, warc_offset, warc_length from articles where id = ?", [article_id]).fetchone()
    stored = read_response(db_path.parent / "warc", name, offset, length)
    assert stored.url == "https://hostile.example/articles/1.html" and b"SCRIPT RAN" in stored.body
    for bad in ["../archive.db", "/etc/passwd", "x/" + name, ".hidden.warc.gz", name.replace(".warc.gz", ".db")]:
        assert read_response(db_path.parent / "warc", bad, offset, length) is None, bad
    assert read_response(db_path.parent / "warc", name, offset, 10**12) is None
    assert read_response(db_path.parent / "warc", name, offset + 1, length) is None  # not a record there


async def test_the_frame_page_has_a_banner_and_a_sandboxed_iframe(hostile_archive):
    db_path, article_id = hostile_archive
    ds = make_datasette(db_path)
    reading = (await ds.client.get(f"/-/article/{article_id}")).text
    assert f'href="/-/archived/{article_id}"' in reading  # the reading view links it
    response = await ds.client.get(f"/-/archived/{article_id}")
    assert response.status_code == 200
    html = response.text
    assert f'<iframe class="arshif-stored" sandbox src="/-/archived/{article_id}/page"' in html
    assert 'href="https://hostile.example/articles/1.html"' in html  # the original
    assert f'href="/-/article/{article_id}"' in html  # the reading view
    assert "SCRIPT RAN" not in html  # the stored page is only in the frame
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-src 'self'" in policy and "script-src" not in policy


async def test_the_stored_page_is_served_with_a_strict_policy(hostile_archive):
    db_path, article_id = hostile_archive
    ds = make_datasette(db_path)
    response = await ds.client.get(f"/-/archived/{article_id}/page")
    assert response.status_code == 200
    policy = [part.strip() for part in response.headers["content-security-policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "img-src data:" in policy and "style-src 'unsafe-inline'" in policy
    assert not any(part.startswith("script-src") for part in policy)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert "http-equiv" not in body.split("<title>")[0].replace('<meta charset="utf-8">', "")  # refresh removed
    assert body.startswith('<base target="_blank">') and "وزارة الصحة تطلق حملة وطنية" in body
    assert "<iframe" not in body.lower() and "preconnect" not in body and "dns-prefetch" not in body


@pytest.mark.parametrize("path", ["/-/archived/999999", "/-/archived/99999999999999999999999",
                                  "/-/archived/999999/page", "/-/archived/abc"])
async def test_unknown_stored_copies_are_404(hostile_archive, path):
    ds = make_datasette(hostile_archive[0])
    assert (await ds.client.get(path)).status_code == 404


async def test_an_article_without_its_record_says_so(archive_db):
    ds = make_datasette(archive_db)  # a copy of the archive without its warc/ folder
    article_id = sqlite3.connect(archive_db).execute("select min(id) from articles").fetchone()[0]
    response = await ds.client.get(f"/-/archived/{article_id}")
    assert response.status_code == 404 and "no stored copy" in response.text
    assert (await ds.client.get(f"/-/archived/{article_id}/page")).status_code == 404


CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def served(db_path: Path, folder: Path):
    """`datasette serve` as `arshif serve` builds it, on a port picked here, until the block ends."""
    import socket
    import urllib.request

    from crawler.cli.serve import datasette_command

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(folder / "datasette.log", "wb") as log:
        server = subprocess.Popen(datasette_command(str(db_path), "127.0.0.1", port), cwd=folder,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})  # this checkout's pipelines
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a hang guard: a loaded machine starts datasette slowly
        while True:
            try:
                urllib.request.urlopen(origin + "/-/metadata.json", timeout=10).close()
                break
            except OSError:
                # it used to go on after 300 tries as if started, and the test failed further on
                assert server.poll() is None and time.monotonic() < deadline, (folder / "datasette.log").read_text()[-2000:]
                time.sleep(0.1)
        yield origin
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium")
def test_in_chromium_nothing_runs_and_nothing_is_requested(demo_crawl, tmp_path, counter):
    from tests.test_browser import Chromium

    db_path = copy_archive(demo_crawl.db_path, tmp_path / "archive.db")
    article_id = _store_hostile(db_path, f"http://127.0.0.1:{counter.port}")
    with served(db_path, tmp_path) as origin:
        browser = Chromium(tmp_path / "profile")
        try:
            browser.page("Page.enable")
            browser.page("Page.navigate", url=f"{origin}/-/archived/{article_id}")
            browser.wait_for("Page.loadEventFired")
            time.sleep(2.5)  # past the page's 1-second refresh
            frame = browser.evaluate("""(() => { const f = document.querySelector('iframe.arshif-stored');
                return {sandbox: f.getAttribute('sandbox'), src: f.src, banner: !!document.querySelector('.arshif-reading-link')}; })()""")
            assert frame["sandbox"] == "" and frame["banner"], frame
            assert browser.evaluate("location.pathname") == f"/-/archived/{article_id}"  # no navigation
            # the stored page opened on its own: its CSP sandbox still holds
            browser.page("Page.navigate", url=f"{origin}/-/archived/{article_id}/page")
            browser.wait_for("Page.loadEventFired")
            time.sleep(2.5)
            state = browser.evaluate("""({title: document.title, h1: document.getElementById('headline').textContent,
                                        color: getComputedStyle(document.getElementById('headline')).color,
                                        inline: document.getElementById('inline').complete,
                                        path: location.pathname})""")
            assert state["title"] == "عنوان الصفحة" and state["h1"] == "وزارة الصحة تطلق حملة وطنية", state
            assert state["color"] == "rgb(1, 2, 3)"  # inline styles are kept
            assert state["path"] == f"/-/archived/{article_id}/page"  # the refresh did not navigate
            browser.evaluate("document.getElementById('link').click(); document.getElementById('form').submit(); 1")
            time.sleep(1.5)
        finally:
            browser.close()
            shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    assert counter.connections == 0, counter.requests  # no script, image, style, frame, refresh, link or form reached the server
