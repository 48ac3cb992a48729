"""The archive published through a real Datasette instance (its ASGI test client)."""

from __future__ import annotations

import pytest
from datasette.app import Datasette

from crawler.cli import DATASETTE_DIR


def _datasette(db_path):
    import yaml

    metadata = yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8"))
    return Datasette(
        [str(db_path)],
        metadata=metadata,
        plugins_dir=str(DATASETTE_DIR / "plugins"),
        template_dir=str(DATASETTE_DIR / "templates"),
        static_mounts=[("arshif-static", str(DATASETTE_DIR / "static"))],
        settings={"sql_time_limit_ms": 3000},
    )


@pytest.fixture
def archive_db(demo_crawl, tmp_path):
    import sqlite3

    path = tmp_path / "archive.db"
    with sqlite3.connect(demo_crawl.db_path) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    return path


async def test_articles_as_json(archive_db, demo_crawl):
    ds = _datasette(archive_db)
    response = await ds.client.get("/archive/articles.json?_shape=array&_size=max")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == demo_crawl.db["articles"].count
    assert all(row["language"] == "ar" and row["text"] for row in rows)


async def test_table_page_renders_rtl_with_facets(archive_db):
    ds = _datasette(archive_db)
    response = await ds.client.get("/archive/articles")
    assert response.status_code == 200
    page = response.text
    assert "المقالات | Articles" in page
    assert 'dir="rtl"' in page
    assert "/arshif-static/arshif.css" in page
    for facet in ("source", "language", "published"):
        assert f'data-column="{facet}"' in page or f"facet-{facet}" in page or f"_facet={facet}" in page
    css = await ds.client.get("/arshif-static/arshif.css")
    assert css.status_code == 200 and "direction: rtl" in css.text


async def test_crawls_and_duplicates_published(archive_db):
    ds = _datasette(archive_db)
    crawls = (await ds.client.get("/archive/crawls.json?_shape=array")).json()
    assert crawls and crawls[0]["status"] == "finished"
    duplicates = (await ds.client.get("/archive/duplicates.json?_shape=array")).json()
    assert duplicates and {d["kind"] for d in duplicates} <= {"url", "exact", "near"}
