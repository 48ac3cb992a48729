"""The search page in a real browser: headless Chromium against a real `datasette` process.

Chromium is driven over the DevTools protocol through `--remote-debugging-pipe`
(JSON messages separated by NUL on file descriptors 3 and 4), so the test needs
no Python package and no browser download: only Debian's `chromium`.
"""

from __future__ import annotations

import contextlib
import base64
import fcntl
import json
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from crawler.cli.serve import datasette_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,1000",
    "--lang=ar",
    "--remote-debugging-pipe",
)
TIMEOUT = 300  # a hang guard only: Chromium and datasette start slowly on a loaded machine, nothing waits it out

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser test",
)


class Chromium:
    """Just enough of a DevTools client: one page, commands, waiting for events."""

    def __init__(self, user_data_dir: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def give_fds_3_and_4():  # Chromium reads commands on fd 3, writes replies on fd 4
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=give_fds_3_and_4,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def _read(self):
        buffer = b""
        while chunk := os.read(self._from_browser, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._replies[message["id"]].put(message)
                else:
                    self.events.put(message)

    def call(self, method: str, session: str | None = None, **params):
        with self._lock:
            self._next_id += 1
            number = self._next_id
            self._replies[number] = queue.Queue()
        message = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        reply = self._replies[number].get(timeout=TIMEOUT)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def page(self, method: str, **params):
        return self.call(method, session=self.session, **params)

    def wait_for(self, method: str):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if event.get("method") == method:
                return event
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.page("Page.captureScreenshot", format="png")["data"]))
        return path

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)


@contextlib.contextmanager
def served_datasette(db_path, tmp_path):
    """`datasette serve` of `db_path` exactly as `arshif serve` builds it, on a free port of 127.0.0.1, from a
    directory outside the project (the plugins must find `pipelines` by themselves); yields its origin."""
    log_path = tmp_path / "datasette.log"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            datasette_command(str(db_path), "127.0.0.1", 0), cwd=elsewhere, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (found := re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log_path.read_text())):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"datasette did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield found.group(1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def served_archive(demo_crawl, tmp_path):
    """`datasette serve` exactly as `arshif serve` builds it, on a free port of 127.0.0.1.

    It runs from a directory outside the project, so the plugins must find
    `pipelines` by themselves.
    """
    db_path = tmp_path / "archive.db"
    with sqlite3.connect(demo_crawl.db_path) as source, sqlite3.connect(db_path) as copy:
        source.backup(copy)
    with served_datasette(db_path, tmp_path) as origin:
        yield origin


@pytest.fixture
def chromium(tmp_path):
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        yield browser
    finally:
        browser.close()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def test_search_page_in_chromium(served_archive, chromium, tmp_path):
    chromium.page("Page.enable")
    chromium.page("Page.navigate", url=f"{served_archive}/")
    chromium.wait_for("Page.loadEventFired")

    # The index page links the search: type an Arabic query into its box and press Enter.
    chromium.evaluate("document.querySelector('form.arshif-search input[name=q]').focus()")
    chromium.page("Input.insertText", text="الارهاب")
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
    chromium.page("Input.dispatchKeyEvent", type="keyDown", text="\r", **enter)
    chromium.page("Input.dispatchKeyEvent", type="keyUp", **enter)
    chromium.wait_for("Page.loadEventFired")

    page = chromium.evaluate(
        """({
        url: location.href,
        query: document.querySelector('input[name=q]').value,
        results: [...document.querySelectorAll('li.arshif-result')].map(li => ({
            title: li.querySelector('.arshif-result-title').innerText,
            href: li.querySelector('.arshif-result-title a').getAttribute('href'),
            rtl: getComputedStyle(li.querySelector('.arshif-result-snippet [dir=rtl]')).direction,
            dir: li.querySelector('.arshif-result-snippet [dir]').getAttribute('dir'),
            marks: [...li.querySelectorAll('mark')].map(m => m.innerText),
        })),
        scripts: document.querySelectorAll('.arshif-results script').length,
        })"""
    )
    shot = chromium.screenshot(tmp_path / "search.png")

    assert "/archive/search?q=" in page["url"], page["url"]
    assert page["query"] == "الارهاب"
    titles = [result["title"] for result in page["results"]]
    assert any("بغداد تستضيف مؤتمراً إقليمياً" in title for title in titles), titles
    assert any("الجماعات الإرهابية" in title for title in titles), titles
    assert all(result["dir"] == "rtl" and result["rtl"] == "rtl" for result in page["results"])
    assert all(result["href"].startswith("/-/article/") for result in page["results"])
    # The typed "الارهاب" highlights the spellings the articles use.
    marks = {mark for result in page["results"] for mark in result["marks"]}
    assert {"الإرهاب", "الإرهابية"} <= marks, marks
    assert page["scripts"] == 0
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Follow the first result into the reading view.
    chromium.page("Page.navigate", url=served_archive + page["results"][0]["href"])
    chromium.wait_for("Page.loadEventFired")
    article = chromium.evaluate(
        """({
        headline: document.querySelector('h1.arshif-headline').innerText,
        paragraphs: [...document.querySelectorAll('.arshif-body p')].map(p => getComputedStyle(p).direction),
        })"""
    )
    chromium.screenshot(tmp_path / "article.png")
    assert article["headline"] == titles[0]
    assert article["paragraphs"] and set(article["paragraphs"]) == {"rtl"}


def _overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5 and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5


GEOMETRY = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const controls = [...document.querySelectorAll(
    'form.arshif-search label, form.arshif-search input[type=search], form.arshif-search button, ' +
    'form.filters label, form.filters select, form.filters input:not([type=hidden]), form.sql input[type=submit], ' +
    '.facet-info a, .crumbs a')].filter(shown)
    .filter(e => e.tagName === 'LABEL' || !e.parentElement.closest('label'));  // a label holds its checkbox
  return {
    lang: document.documentElement.getAttribute('lang'), dir: document.documentElement.getAttribute('dir'),
    controls: controls.map(e => ({...box(e), what: e.outerHTML.slice(0, 80)})),
    dates: [...document.querySelectorAll('time')].map(t => ({text: t.innerText,
      lines: new Set([...t.getClientRects()].map(r => Math.round(r.top))).size})),  // bidi runs share a line's top
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
})()"""


SCREENSHOTS = Path(os.environ.get("ARSHIF_SCREENSHOTS", Path(__file__).resolve().parent.parent / "build" / "screenshots"))
LAYOUT_PAGES = (("home", "/"), ("search", "/archive/search?q=%D9%85%D8%A4%D8%AA%D9%85%D8%B1"),
                ("table", "/archive/articles"), ("table-search", "/archive/articles?_q=%D9%85%D8%A4%D8%AA%D9%85%D8%B1"),
                ("row", "/archive/articles/1"), ("database", "/archive"), ("crawls", "/archive/crawls"),
                ("search-all", "/-/search?q=%D9%85%D8%A4%D8%AA%D9%85%D8%B1"), ("article", "/-/article/1"))


@pytest.mark.parametrize("width", [412, 1024, 1280, 1920])
def test_layout_at_each_width(served_archive, chromium, tmp_path, width):
    """By element geometry: no control (search box, filters, facets, breadcrumbs) covers another, no date
    wraps, lang/dir set, on every kind of page; screenshots in build/screenshots/ (ARSHIF_SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium.page("Page.enable")
    chromium.page("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=width < 600)
    for name, path in LAYOUT_PAGES:
        chromium.page("Page.navigate", url=served_archive + path)
        chromium.wait_for("Page.loadEventFired")
        found = chromium.evaluate(GEOMETRY)
        chromium.screenshot(SCREENSHOTS / f"{name}-{width}.png")
        assert (found["lang"], found["dir"]) == ("ar", "rtl"), (name, width)
        controls = found["controls"]
        for i, first in enumerate(controls):
            for second in controls[i + 1:]:
                assert not _overlaps(first, second), (name, width, first, second)
        assert all(date["lines"] == 1 for date in found["dates"]), (name, width, found["dates"])
        if name in ("search", "table", "row", "crawls", "search-all"):
            assert found["dates"], (name, width)
