"""Arshif's SQL functions bound their work: a public GET cannot hold a datasette thread for long."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys

import pytest

from pipelines.text.search_text import INDEX_LIMIT, PUBLIC_LIMIT, ArgumentTooLong, register_functions
from tests.conftest import PROJECT_DIR

HUGE = "replace(hex(zeroblob(3000000)),'00','بغداد ')"  # 18,000,000 characters
AT_LIMIT = f"substr(replace(hex(zeroblob(200000)),'00','بغداد '),1,{PUBLIC_LIMIT})"

PROBE = """
import asyncio, json, sys, time
from tests.conftest import make_datasette

def peak_mb():
    # VmHWM starts afresh with this program; ru_maxrss would carry over the parent's peak through exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

async def main(db, sql):
    ds = make_datasette(db)
    started = time.monotonic()
    response = await ds.client.get("/archive.json", params={"sql": sql})
    seconds = time.monotonic() - started
    body = response.json()
    print(json.dumps({"status": response.status_code, "seconds": seconds, "error": body.get("error"),
                      "rows": body.get("rows"), "peak_mb": peak_mb()}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _get(db, sql: str) -> dict:
    """One GET through datasette in a fresh process, so its peak memory is this request's."""
    result = subprocess.run([sys.executable, "-c", PROBE, str(db), sql], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("sql", [
    f"select length(arshif_snippet({HUGE},'بغداد',0))",
    f"select length(arshif_snippet('بغداد',{HUGE}))",
    f"select length(arshif_search_text({HUGE}))",
    f"select length(arshif_fts_query({HUGE}))",
])
def test_a_huge_argument_is_refused_fast_with_a_clear_error(archive_db, sql):
    answer = _get(archive_db, sql)
    assert answer["status"] == 400
    assert "texts longer than 1,000,000 characters are not processed" in answer["error"]
    # refused before any work: the peak memory says so (was 1.4 GB for the snippet). Its time is not
    # asserted (a loaded machine makes any bound flaky); `answer["seconds"]` is there to read with -s.
    assert answer["peak_mb"] < 400, answer


def test_the_longest_accepted_argument_ends_within_the_time_limit(archive_db):
    answer = _get(archive_db, f"select length(arshif_snippet({AT_LIMIT},'بغداد',100000))")
    assert answer["status"] == 200 and answer["rows"][0][0] > 0, answer
    assert answer["error"] is None and answer["peak_mb"] < 400, answer  # answered, not interrupted


def test_archive_functions_cut_instead_of_failing_a_crawl():
    connection = sqlite3.connect(":memory:")
    register_functions(connection)
    long_text = "بغداد " * (INDEX_LIMIT // 6 + 10)
    indexed = connection.execute("select length(arshif_search_text(?))", [long_text]).fetchone()[0]
    assert 0 < indexed <= INDEX_LIMIT
    public = sqlite3.connect(":memory:")
    register_functions(public, limit=10)
    assert public.execute("select arshif_search_text('بغداد')").fetchone()[0]
    with pytest.raises(sqlite3.OperationalError, match="user-defined function raised exception"):
        public.execute("select arshif_search_text('بغداد بغداد بغداد')")
    assert issubclass(ArgumentTooLong, ValueError)


def _best_start_quadratic(hits, size):
    """The window search as it was (every window scored from scratch), to compare with."""
    count = len(hits)
    best, best_score = 0, (0, 0)
    for position, found in enumerate(hits):
        if not found:
            continue
        start = max(0, min(position - size // 3, count - size))
        window = hits[start : start + size]
        score = (len(frozenset().union(*window)), sum(1 for w in window if w))
        if score > best_score:
            best, best_score = start, score
    return best


def test_the_linear_snippet_window_picks_the_same_window():
    from datasette.utils import module_from_path

    from crawler.cli.common import DATASETTE_DIR

    search = module_from_path(str(DATASETTE_DIR / "plugins" / "arshif_search.py"), "arshif_search_limits")
    rng = random.Random(19)
    for _ in range(300):
        count = rng.randint(1, 120)
        hits = [frozenset(rng.sample("abcde", rng.randint(0, 2))) if rng.random() < 0.3 else frozenset()
                for _ in range(count)]
        size = rng.randint(1, count)
        assert search._best_start(hits, size) == _best_start_quadratic(hits, size), (hits, size)
