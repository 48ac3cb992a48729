"""Several archives served together, and search results collapsed by story, on real crawls.

Two shards made by the real crawler: the demo site's archive and the archive of
a generated site with near copies (tests/story_site.py: a near copy of a story
is stored as an article of its own, in the story's cluster). Served together as
`arshif serve demo.db stories.db` serves them (datasette's ASGI client): each is
searchable on its own, and `/-/search` searches both.
"""

from __future__ import annotations

import sqlite3

import pytest
import yaml
from datasette.app import Datasette

from crawler.cli.common import DATASETTE_DIR
from crawler.demo.server import SiteServer
from tests.conftest import copy_archive, crawl
from tests.story_site import build

STORIES = 40
BOTH = "الملف OR مؤتمر"  # "الملف" is in every story of the generated site, both words in the demo site


@pytest.fixture(scope="module")
def story_crawl(tmp_path_factory):
    root = tmp_path_factory.mktemp("story-site")
    plan = build(root, STORIES)
    with SiteServer(root) as server:
        run = crawl(str(root / "source.toml"), tmp_path_factory.mktemp("stories") / "archive.db", server.origin,
                    "-s", "ARSHIF_BATCH_SIZE=20")
    assert run.returncode == 0, run.stderr[-3000:]
    run.plan = plan
    return run


def serve(*paths) -> Datasette:
    """Datasette as `arshif serve a.db b.db` configures it."""
    return Datasette(
        [str(path) for path in paths], crossdb=True,
        metadata=yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8")),
        plugins_dir=str(DATASETTE_DIR / "plugins"), template_dir=str(DATASETTE_DIR / "templates"),
        static_mounts=[("arshif-static", str(DATASETTE_DIR / "static"))],
        settings={"sql_time_limit_ms": 3000, "suggest_facets": False, "max_csv_mb": 0},
    )


@pytest.fixture
def shards(demo_crawl, story_crawl, tmp_path):
    return (copy_archive(demo_crawl.db_path, tmp_path / "demo.db"),
            copy_archive(story_crawl.db_path, tmp_path / "stories.db"))


def _members(path) -> dict[int, int]:
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT story_id, count(*) FROM articles GROUP BY story_id"))


async def _all_pages(ds, path, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        found = (await ds.client.get(path, params={**params, "page": page, "_shape": "array"})).json()
        rows.extend(found)
        if len(found) < 20:
            return rows
        page += 1


async def test_each_shard_is_searchable_on_its_own(shards, story_crawl):
    ds = serve(*shards)
    demo = (await ds.client.get("/demo/search.json", params={"q": "مؤتمر", "_shape": "array"})).json()
    stories = (await ds.client.get("/stories/search.json", params={"q": "الملف", "_shape": "array"})).json()
    assert demo and stories
    with sqlite3.connect(shards[0]) as connection:
        demo_urls = {url for (url,) in connection.execute("SELECT url FROM articles")}
    assert {row["url"] for row in demo} <= demo_urls
    assert not {row["url"] for row in stories} & demo_urls
    site_paths = {page.path for page in story_crawl.plan.pages}
    assert all("/" + row["url"].split("/", 3)[3] in site_paths for row in stories)
    home = (await ds.client.get("/")).text
    assert 'href="/-/search"' in home


async def test_one_search_across_both_shards_merges_pages_and_links_each_article(shards):
    ds = serve(*shards)
    data = (await ds.client.get("/-/search.json", params={"q": BOTH})).json()
    own = {}
    for name in ("demo", "stories"):
        own[name] = len(await _all_pages(ds, f"/{name}/search.json", q=BOTH, sort="date", all="1"))
    assert {s["database"]: s["total"] for s in data["shards"]} == own
    assert data["total"] == sum(own.values()) and not data["failed"]
    first = data["rows"]
    assert len(first) == 20 and {row["database"] for row in first} >= {"stories"}
    scores = [row["relevance"] for row in first]
    assert scores == sorted(scores, reverse=True)
    second = (await ds.client.get("/-/search.json", params={"q": BOTH, "page": 2})).json()["rows"]
    key = lambda row: (row["database"], row["article_id"])
    assert second and not {key(r) for r in first} & {key(r) for r in second}
    assert max(r["relevance"] for r in second) <= min(scores)
    # every result of every page, by date: one list from both archives, newest first
    merged, page = [], 1
    while True:
        rows = (await ds.client.get("/-/search.json", params={"q": BOTH, "sort": "date", "page": page})).json()["rows"]
        merged.extend(rows)
        if len(rows) < 20:
            break
        page += 1
    assert {r["database"] for r in merged} == {"demo", "stories"}
    dates = [r["published"] or "" for r in merged]
    assert dates == sorted(dates, reverse=True)
    collapsed = {name: len(await _all_pages(ds, f"/{name}/search.json", q=BOTH, sort="date")) for name in own}
    assert len(merged) == sum(collapsed.values())
    # ids are per archive: the same id is another article in each shard, and each result opens its own
    html = (await ds.client.get("/-/search", params={"q": BOTH})).text
    assert 'lang="ar" dir="rtl"' in html and "عدد النتائج" in html
    for row in (first[0], next(r for r in merged if r["database"] == "demo")):
        assert f'href="/-/article/{row["article_id"]}?db={row["database"]}"' in html or row is not first[0]
        page = (await ds.client.get(f"/-/article/{row['article_id']}", params={"db": row["database"]})).text
        assert str(sqlite3.connect(shards[0 if row["database"] == "demo" else 1]).execute(
            "SELECT title FROM articles WHERE id = ?", [row["article_id"]]).fetchone()[0]).replace('"', "&#34;") in page
    missing = await ds.client.get("/-/article/1", params={"db": "nope"})
    assert missing.status_code == 404


async def test_search_collapses_each_story_to_one_result_with_its_other_versions(story_crawl, tmp_path):
    path = copy_archive(story_crawl.db_path, tmp_path / "archive.db")
    near = [page for page in story_crawl.plan.pages if page.kind == "near"]
    assert len(near) >= 3  # the site has near copies, stored as articles of their stories
    members = _members(path)
    assert sum(1 for n in members.values() if n > 1) >= len(near)
    ds = serve(path)
    every = await _all_pages(ds, "/archive/search.json", q="الملف", sort="date", all="1")
    assert len(every) == sum(members.values())  # every article of every story matches "الملف"
    for sort in ("date", ""):
        collapsed = await _all_pages(ds, "/archive/search.json", q="الملف", sort=sort)
        assert sorted(r["story_id"] for r in collapsed) == sorted(members)  # one result per story, none lost
        assert all(r["other_versions"] == members[r["story_id"]] - 1 for r in collapsed)
    shown = {r["article_id"] for r in await _all_pages(ds, "/archive/search.json", q="الملف", sort="date")}
    with sqlite3.connect(path) as connection:  # by date, a story shows its newest version
        newest = {story: article for story, article in connection.execute(
            "SELECT story_id, id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM articles b WHERE b.story_id = a.story_id"
            " AND (coalesce(b.published, '') > coalesce(a.published, '') OR (coalesce(b.published, '') ="
            " coalesce(a.published, '') AND b.id > a.id)))")}
    assert shown == set(newest.values())
    page = (await ds.client.get("/archive/search", params={"q": "الملف", "sort": "date"})).text
    assert "other version" in page and "نسخة أخرى" in page and "story_id=" in page
    assert "all=1" in page  # the toggle to every version
    toggled = (await ds.client.get("/archive/search", params={"q": "الملف", "all": "1"})).text
    assert "other version" not in toggled and 'name="all" value="1"' in toggled
