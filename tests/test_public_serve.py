"""`arshif serve` publishes what a public archive should, and `--public` allows no arbitrary SQL."""

from __future__ import annotations

import pytest

from crawler.cli.main import main
from tests.conftest import PROJECT_DIR, make_datasette

HIDDEN = ["/-/databases", "/-/versions", "/-/threads", "/-/plugins", "/-/settings", "/-/config", "/-/actor",
          "/-/permissions", "/-/allow-debug", "/-/messages", "/-/patterns"]
PUBLISHED = ["/", "/.json", "/archive", "/archive.json", "/archive/articles", "/archive/articles.json",
             "/archive/articles/1", "/archive/articles/1.json", "/-/metadata", "/-/metadata.json", "/-/article/1",
             "/archive/search?q=الارهاب", "/archive/search.json?q=الارهاب", "/archive/crawls.json",
             "/archive/articles.csv", "/nonexistent", "/archive/articles/999999999999999999999"]


@pytest.mark.parametrize("path", [p + suffix for p in HIDDEN for suffix in ("", ".json")] + ["/-/plugins.json?all=1"])
async def test_debug_pages_are_not_public(archive_db, path):
    ds = make_datasette(archive_db)
    response = await ds.client.get(path)
    assert response.status_code == 404


async def test_no_page_shows_a_file_path(archive_db):
    ds = make_datasette(archive_db)
    leaks = [str(archive_db.parent), str(PROJECT_DIR), "site-packages", "/tmp/", "/root/"]
    for path in PUBLISHED + HIDDEN:
        response = await ds.client.get(path)
        assert response.status_code < 500, path
        for leak in leaks:
            assert leak not in response.text, (path, leak)


@pytest.mark.parametrize("article_id", ["99999999999999999999999", "9223372036854775808", "9223372036854775807",
                                        "0", "1" * 30])
async def test_unknown_or_huge_article_ids_are_404(archive_db, article_id):
    ds = make_datasette(archive_db)
    response = await ds.client.get(f"/-/article/{article_id}")
    assert response.status_code == 404


async def test_arbitrary_sql_is_allowed_locally(archive_db, monkeypatch):
    monkeypatch.delenv("ARSHIF_PUBLIC", raising=False)
    ds = make_datasette(archive_db)
    assert (await ds.client.get("/archive.json", params={"sql": "select 1"})).status_code == 200


async def test_public_serving_refuses_arbitrary_sql_and_keeps_the_rest(archive_db, monkeypatch):
    monkeypatch.setenv("ARSHIF_PUBLIC", "1")
    ds = make_datasette(archive_db)
    for path, params in [("/archive.json", {"sql": "select 1"}), ("/archive", {"sql": "select * from articles"}),
                         ("/archive.csv", {"sql": "select 1"}),
                         ("/archive/articles.json", {"_where": "1=1"})]:
        response = await ds.client.get(path, params=params)
        assert response.status_code in (400, 403), (path, response.status_code)
    page = await ds.client.get("/archive")
    assert page.status_code == 200 and 'name="sql"' not in page.text  # no SQL editor
    search = await ds.client.get("/archive/search.json", params={"q": "الارهاب", "_shape": "array"})
    assert search.status_code == 200 and len(search.json()) >= 2
    for path in ["/archive/articles.json", "/archive/articles.json?_q=الارهاب", "/-/article/1",
                 "/archive/articles_per_source_per_day.json", "/archive/articles?_facet=source", "/"]:
        assert (await ds.client.get(path)).status_code == 200, path


def test_serve_public_sets_the_switch_the_plugin_reads(archive_db, monkeypatch, capsys):
    monkeypatch.setenv("ARSHIF_PUBLIC", "0")  # restored (removed) after the test, whatever serve sets
    launched = {}
    monkeypatch.setattr("os.execvp", lambda file, args: launched.update(args=args))
    assert main(["serve", str(archive_db), "--public"]) == 0
    import os

    assert os.environ["ARSHIF_PUBLIC"] == "1" and launched["args"][1:3] == ["-m", "datasette"]
    assert "ARSHIF_PUBLIC=1" in capsys.readouterr().out


def test_readme_recommends_public_serving():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    import re

    assert re.search(r"\$ arshif serve [^\n]*--public", readme) and "SECURITY.md" in readme
    assert "--public" in (PROJECT_DIR / "SECURITY.md").read_text(encoding="utf-8")
