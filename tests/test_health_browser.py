"""The health page in headless Chromium, against a real `datasette` process as `arshif serve` starts it."""

from __future__ import annotations


import pytest

from tests.conftest import copy_archive
from tests.test_browser import CHROMIUM, Chromium, _overlaps, served_datasette
from tests.test_health import add_synthetic_sources

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium")

RED = "rgb(179, 38, 30)"  # failing: the row's mark and badge
ORANGE = "rgb(224, 123, 0)"  # stale

GEOMETRY = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const form = document.querySelector('form.arshif-health-hours');
  const rows = [...document.querySelectorAll('table.arshif-health-table tbody tr')];
  return {
    lang: document.documentElement.getAttribute('lang'), dir: document.documentElement.getAttribute('dir'),
    direction: getComputedStyle(document.querySelector('table.arshif-health-table')).direction,
    controls: [...form.querySelectorAll('label, input:not([type=hidden]), button, a')].map(box),
    width: document.documentElement.clientWidth,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    rows: rows.map(tr => ({
      source: tr.dataset.source, state: tr.dataset.state,
      cells: [...tr.children].map(box),
      chart: box(tr.querySelector('svg.arshif-health-chart')),
      bars: [...tr.querySelectorAll('rect.arshif-health-bar')].filter(r => r.getBoundingClientRect().height > 0).length,
      mark: getComputedStyle(tr).borderTopColor + ' ' + getComputedStyle(tr.children[0]).borderRightColor,
      badge: getComputedStyle(tr.querySelector('.arshif-health-badge')).backgroundColor,
    })),
  };
})()"""


@pytest.fixture
def served_health(demo_crawl, tmp_path):
    db_path = copy_archive(demo_crawl.db_path, tmp_path / "newsroom.db")  # not "archive": any name works
    add_synthetic_sources(db_path)
    with served_datasette(db_path, tmp_path) as origin:
        yield origin


@pytest.fixture
def chromium(tmp_path):
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        yield browser
    finally:
        browser.close()


@pytest.mark.parametrize("width", [412, 1280])
def test_health_page_in_chromium(served_health, chromium, tmp_path, width):
    chromium.page("Page.enable")
    chromium.page("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=width < 600)
    chromium.page("Page.navigate", url=f"{served_health}/")
    chromium.wait_for("Page.loadEventFired")
    href = chromium.evaluate("document.querySelector('a.arshif-health-link').getAttribute('href')")
    assert href == "/-/health?database=newsroom"
    chromium.page("Page.navigate", url=served_health + href)
    chromium.wait_for("Page.loadEventFired")
    found = chromium.evaluate(GEOMETRY)
    shot = chromium.screenshot(tmp_path / f"health-{width}.png")
    assert shot.stat().st_size > 10_000

    assert (found["lang"], found["dir"], found["direction"]) == ("ar", "rtl", "rtl")
    assert found["overflow"] <= 0, found["overflow"]  # no sideways scrolling, also at 412 px
    controls = found["controls"]
    assert len(controls) == 4
    for i, first in enumerate(controls):
        for second in controls[i + 1:]:
            assert not _overlaps(first, second), (width, first, second)
    rows = {row["source"]: row for row in found["rows"]}
    for row in found["rows"]:
        chart = row["chart"]
        assert chart["right"] - chart["left"] > 100 and chart["bottom"] - chart["top"] > 15, row  # the chart is there
        assert 0 <= chart["left"] and chart["right"] <= found["width"] + 0.5, row  # and on the screen
        cells = row["cells"]
        for i, first in enumerate(cells):
            for second in cells[i + 1:]:
                assert not _overlaps(first, second), (width, row["source"], first, second)
    assert rows["hespress"]["bars"] >= 29 and rows["demo"]["bars"] == 1
    assert RED in rows["aljazeera"]["mark"] and rows["aljazeera"]["badge"] == RED
    assert ORANGE in rows["bbcarabic"]["mark"] and rows["bbcarabic"]["badge"] == ORANGE
    assert RED not in rows["demo"]["mark"] and ORANGE not in rows["demo"]["mark"]
