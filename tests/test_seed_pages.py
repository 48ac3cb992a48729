"""The five shared seed texts, wrapped in their noise, through `arshif extract`."""

from __future__ import annotations

import json

import pytest

from pipelines.text.normalize import normalize_arabic
from tests.conftest import run_arshif
from tests.seed_pages import load_seed_pages, render


@pytest.fixture
def seed_pages(shared_dir):
    return load_seed_pages(shared_dir / "seeds")


def _extract(tmp_path, page) -> dict:
    path = tmp_path / f"{page.name}.html"
    path.write_text(render(page), encoding="utf-8")
    result = run_arshif("extract", str(path), "--url", f"https://news.example/{page.name}.html")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_seed_pages_keep_body_and_drop_noise(tmp_path, seed_pages):
    assert len(seed_pages) == 5
    for page in seed_pages:
        record = _extract(tmp_path, page)
        text = normalize_arabic(record["text"])
        for paragraph in page.body:
            start = normalize_arabic(paragraph)[:80]
            assert start in text, (page.name, paragraph[:60])
        lines = {normalize_arabic(line) for line in record["text"].split("\n")}
        body = normalize_arabic(" ".join(page.body))
        for noise in map(normalize_arabic, page.noise):
            if noise in body:  # a caption that quotes the body: it must not stand alone
                assert noise not in lines, (page.name, noise)
            else:
                assert noise not in text, (page.name, noise)
        assert normalize_arabic(record["title"]) == normalize_arabic(page.title), (page.name, record["title"])
        assert record["language"] == "ar"
        if page.published:
            assert record["published"] and record["published"].startswith(page.published), (page.name, record["published"])
        for key in ("url", "title", "text", "author", "published", "language", "source"):
            assert key in record
