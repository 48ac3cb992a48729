"""`arshif extract` applies the crawl's own checks (size, binary data) and gives the crawl's verdict."""

from __future__ import annotations

import random
import resource
import shutil
import sys
from pathlib import Path

import pytest

from crawler import settings
from pipelines.extraction.worker import extract_page, page_problem
from tests.conftest import run_arshif


def _random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(19).randbytes(300_000))
    return path


def _elf(path: Path) -> Path:
    shutil.copyfile(shutil.which("ls") or sys.executable, path)
    return path


def _huge(path: Path) -> Path:
    with open(path, "wb") as file:  # 200 MB, sparse: nothing to read before the refusal
        file.truncate(200 * 1024 * 1024)
    return path


@pytest.mark.parametrize("make, reason", [(_random_bytes, "binary data"), (_elf, "binary data"),
                                          (_huge, "page limit (DOWNLOAD_MAXSIZE)")])
def test_extract_refuses_what_the_crawl_refuses(tmp_path, make, reason):
    path = make(tmp_path / "page.html")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_arshif("extract", str(path), timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert result.returncode == 1, result.stdout[:500]
    assert f"{path}: refused:" in result.stderr and reason in result.stderr
    assert result.stdout == ""  # no record
    # was 42 s and 3.7 GB for 200 MB; ~0.7 s now. The command's CPU time, not its wall time: a loaded machine
    # stretched the wall time of the start-up alone to 4 s (its CPU time stays the same)
    assert cpu_seconds < 10, cpu_seconds
    if path.stat().st_size <= settings.DOWNLOAD_MAXSIZE:
        # the crawl's extraction worker, on the same bytes: the same refusal
        body = path.read_bytes()
        record, error, _ = extract_page(body, "https://example.org/a", "text/html", "x", None, (), {}, 40)
        assert record is None and error == page_problem(body) and error in result.stderr


def test_the_size_limit_is_the_crawls(tmp_path):
    over = tmp_path / "over.html"
    over.write_bytes(b"<html>" + b" " * settings.DOWNLOAD_MAXSIZE)
    result = run_arshif("extract", str(over), timeout=300)
    assert result.returncode == 1 and "DOWNLOAD_MAXSIZE" in result.stderr
    assert page_problem(over.read_bytes(), settings.DOWNLOAD_MAXSIZE)
    assert page_problem(b"<html><body>" + "نص ".encode() * 100 + b"</body></html>", settings.DOWNLOAD_MAXSIZE) is None
