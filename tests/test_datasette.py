"""The archive published through a real Datasette instance (its ASGI test client)."""

from __future__ import annotations

import inspect
import re
import sqlite3
from datetime import date

import pytest
from datasette.utils import module_from_path

from crawler.cli.common import DATASETTE_DIR
from crawler.cli.serve import datasette_command
from pipelines.archive.database import insert_rows, next_article_id, open_archive
from tests.conftest import make_datasette






async def test_articles_as_json(archive_db, demo_crawl):
    ds = make_datasette(archive_db)
    response = await ds.client.get("/archive/articles.json?_shape=array&_size=max")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == demo_crawl.db["articles"].count
    assert all(row["language"] == "ar" and row["text"] for row in rows)


async def test_table_page_renders_rtl_with_facets(archive_db):
    ds = make_datasette(archive_db)
    response = await ds.client.get("/archive/articles")
    assert response.status_code == 200
    page = response.text
    assert "المقالات | Articles" in page
    assert 'dir="rtl"' in page
    assert "/arshif-static/arshif.css" in page
    for facet in ("source", "published"):
        assert f'data-column="{facet}"' in page or f"facet-{facet}" in page or f"_facet={facet}" in page
    css = await ds.client.get("/arshif-static/arshif.css")
    assert css.status_code == 200 and "direction: rtl" in css.text


async def test_crawls_and_duplicates_published(archive_db):
    ds = make_datasette(archive_db)
    crawls = (await ds.client.get("/archive/crawls.json?_shape=array")).json()
    assert crawls and crawls[0]["status"] == "finished"
    duplicates = (await ds.client.get("/archive/duplicates.json?_shape=array")).json()
    assert duplicates and {d["kind"] for d in duplicates} <= {"url", "exact", "near"}


# --- metadata, canned queries, chart, read-only serving (datasette/README.md) ----------------

ARABIC = re.compile("[\u0600-\u06ff]")
LATIN = re.compile("[A-Za-z]{3}")


def _metadata():
    import yaml

    return yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8"))


async def _rows(ds, path, **params):
    response = await ds.client.get(path + ".json", params={**params, "_shape": "array"})
    assert response.status_code == 200, response.text[:500]
    return response.json()


async def test_every_table_and_query_has_arabic_and_english_title_and_description(archive_db):
    database = _metadata()["databases"]["archive"]
    ds = make_datasette(archive_db)
    tables = await ds.databases["archive"].table_names()
    shadow = re.compile(r"^articles_fts_(data|idx|content|docsize|config)$")
    described = {**database["tables"], **database["queries"]}
    for name in [t for t in tables if not shadow.match(t)] + list(database["queries"]):
        entry = described.get(name)
        assert entry, f"{name} has no metadata"
        for key in ("title",):
            assert ARABIC.search(entry[key]) and LATIN.search(entry[key]), (name, key)
        description = entry.get("description_html") or entry.get("description") or ""
        assert ARABIC.search(description) and LATIN.search(description), name


async def test_database_page_lists_the_canned_queries(archive_db):
    page = (await make_datasette(archive_db).client.get("/archive")).text
    for name in _metadata()["databases"]["archive"]["queries"]:
        assert f'href="/archive/{name}"' in page, name


async def test_articles_per_source_per_day_adds_up(archive_db):
    ds = make_datasette(archive_db)
    rows = []  # one month a page, latest first, until a page is empty
    for page in range(1, 100):
        found = await _rows(ds, "/archive/articles_per_source_per_day", page=str(page))
        if not found:
            break
        rows.extend(found)
    with sqlite3.connect(archive_db) as connection:
        expected = dict(
            ((day, source), count)
            for day, source, count in connection.execute(
                "select substr(published, 1, 10), source, count(*) from articles"
                " where published is not null group by 1, 2"
            )
        )
    assert {(r["day"], r["source"]): r["articles"] for r in rows} == expected
    assert [r["day"] for r in rows] == sorted((r["day"] for r in rows), reverse=True)


async def test_latest_crawls_with_counts(archive_db, demo_crawl):
    rows = await _rows(make_datasette(archive_db), "/archive/latest_crawls")
    crawl = demo_crawl.last_crawl()
    row = next(r for r in rows if r["id"] == crawl["id"])
    assert row["stored"] == crawl["stored"] == row["articles_in_archive"] > 0
    assert row["duplicate"] == crawl["duplicate"] and row["status"] == "finished"
    assert row["seconds"] is not None and row["seconds"] >= 0
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)


async def test_duplicate_clusters_one_row_per_article_with_count(archive_db):
    with open_archive(archive_db).conn as connection:  # registers the functions the triggers call
        original = connection.execute("select duplicate_of from duplicates where kind = 'exact'").fetchone()[0]
        connection.execute(
            "insert into duplicates (url, source, title, duplicate_of, similarity, kind)"
            " values ('https://example.org/copy-2', 'demo', 'نسخة', ?, 0.91, 'near')", [original]
        )
        clusters = connection.execute("select count(distinct duplicate_of) from duplicates").fetchone()[0]
    rows = await _rows(make_datasette(archive_db), "/archive/duplicate_clusters")
    assert len(rows) == clusters
    row = next(r for r in rows if r["article_id"] == original)
    assert row["copies"] == 2 and set(row["kinds"].split(",")) == {"exact", "near"}
    assert "https://example.org/copy-2" in row["copy_urls"].split()
    assert row["min_similarity"] == 0.91
    page = (await make_datasette(archive_db).client.get("/archive/duplicate_clusters")).text
    assert f'<a href="/-/article/{original}"' in page


async def test_duplicate_clusters_pages_are_the_largest_clusters_in_order_with_every_copy(archive_db):
    """Over 100 clusters: the query picks a page's 100 largest from the index first, then gathers
    their copies; each page equals grouping every copy."""
    db = open_archive(archive_db)
    insert_rows(db, [{"id": 1000 + n, "url": f"https://many.example/{n}", "source": "many", "title": f"خبر {n}",
                      "text": "نص", "language": "ar"} for n in range(130)], [])
    db.close()
    with open_archive(archive_db).conn as connection:  # registers the functions the triggers call
        ids = [row[0] for row in connection.execute("select id from articles order by id")]
        connection.executemany(
            "insert into duplicates (url, source, title, duplicate_of, similarity, kind) values (?, 'demo', 'نسخة', ?, ?, ?)",
            [(f"https://copies.example/{original}/{n}", original, 0.5 + n / 100, "near" if n % 2 else "exact")
             for index, original in enumerate(ids) for n in range(1 + index % 4)])
        reference = [list(row) for row in connection.execute(
            "select duplicate_of, count(*) as copies, group_concat(url, ' ') from duplicates group by duplicate_of"
            " order by copies desc, duplicate_of")]
    assert len(reference) > 100
    ds = make_datasette(archive_db)
    rows = []
    for page in ("1", "2"):
        found = (await ds.client.get("/archive/duplicate_clusters.json", params={"page": page, "_shape": "array"})).json()
        rows.extend(found)
    assert [[r["article_id"], r["copies"], r["copy_urls"]] for r in rows] == reference


async def test_largest_stories_are_the_stories_view_largest_first(archive_db):
    """The query finds stories of two or more from the index of articles that joined another story
    (m140) instead of grouping every article: its rows equal the `stories` view's."""
    db = open_archive(archive_db)
    insert_rows(db, [{"id": 2000 + n, "url": f"https://copies.example/{n}", "source": f"site-{n % 4}",
                      "title": f"نسخة {n}", "text": "نص", "language": "ar",
                      "published": None if n % 7 == 0 else f"2024-05-{1 + n % 20:02d}"} for n in range(240)], [])
    db.close()
    with sqlite3.connect(archive_db) as connection:
        # 120 stories: sizes 1 to 4 (stories of one are left out), each led by its smallest id
        connection.executemany("UPDATE articles SET story_id = ? WHERE id = ?",
                               [(2000 + n - n % (1 + n % 4 if n % 4 else 1), 2000 + n) for n in range(240)])
        connection.execute("UPDATE articles SET story_id = 2000 WHERE id BETWEEN 2200 AND 2239")  # one story of 40+
        reference = [list(row) for row in connection.execute(
            "SELECT s.id, s.original_id, a.title, substr(s.first_published, 1, 10), substr(s.last_published, 1, 10),"
            " s.members, s.sources FROM stories s JOIN articles a ON a.id = s.original_id WHERE s.members > 1"
            " ORDER BY s.members DESC, s.id LIMIT 100")]
    assert len(reference) > 10 and reference[0][0] == 2000
    rows = await _rows(make_datasette(archive_db), "/archive/largest_stories")
    assert [[r["story_id"], r["article_id"], r["title"], r["first_published"], r["last_published"], r["members"],
             r["sources"]] for r in rows] == reference
    assert all(len(r["source_list"].split(",")) == r["sources"] for r in rows)


async def test_the_stories_view_page_is_served_without_a_count_or_a_sort_by_size(archive_db):
    """Counting or sorting the view groups every article (the SQL time limit at 1 M): its page lists
    stories in story order, uncounted, and points at the largest-stories query; `_nocount=0` counts."""
    ds = make_datasette(archive_db)
    with sqlite3.connect(archive_db) as connection:
        reference = [list(row) for row in connection.execute("SELECT id, original_id, members FROM stories LIMIT 5")]
        total = connection.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
    assert reference
    page = (await ds.client.get("/archive/stories.json", params={"_size": "5"})).json()
    assert page["filtered_table_rows_count"] is None  # no count query ran
    assert "order by" not in page["query"]["sql"].lower()
    assert [[row[0], row[1], row[2]] for row in page["rows"]] == reference
    counted = (await ds.client.get("/archive/stories.json", params={"_size": "5", "_nocount": "0"})).json()
    assert counted["filtered_table_rows_count"] == total
    html = await ds.client.get("/archive/stories")
    assert html.status_code == 200 and 'href="largest_stories"' in html.text
    articles = (await ds.client.get("/archive/articles.json", params={"_size": "1"})).json()
    assert articles["filtered_table_rows_count"] is not None  # other tables are counted as before


async def test_articles_without_a_date(archive_db):
    db = open_archive(archive_db)
    undated = next_article_id(db)
    insert_rows(db, [{"id": undated, "url": "https://example.org/undated", "source": "demo",
                      "title": "خبر بلا تاريخ", "text": "نص", "language": "ar", "fetched_at": "2030-01-01"}], [])
    db.close()
    rows = await _rows(make_datasette(archive_db), "/archive/articles_without_date")
    assert [r["article_id"] for r in rows] == [undated]
    sources = await _rows(make_datasette(archive_db), "/archive/sources")
    demo = next(r for r in sources if r["source"] == "demo")
    assert demo["without_date"] == 1 and demo["duplicates"] >= 1


async def test_index_page_has_search_chart_queries_and_exports(archive_db):
    ds = make_datasette(archive_db)
    page = (await ds.client.get("/")).text
    assert 'action="/archive/search"' in page and 'name="q"' in page
    with sqlite3.connect(archive_db) as connection:
        bars = connection.execute(
            "select count(*) from (select distinct substr(published, 1, 10), source from articles"
            " where published is not null)"
        ).fetchone()[0]
    svg = page.split('<svg class="arshif-chart"', 1)[1].split("</svg>", 1)[0]
    assert svg.count("<rect ") == bars > 0
    assert "<script" not in svg
    assert 'href="/archive/articles?published__startswith=' in svg
    for name in _metadata()["databases"]["archive"]["queries"]:
        assert f'href="/archive/{name}"' in page
    assert 'href="/archive/articles.csv?_stream=1&amp;_size=max&amp;_dl=1&amp;_bom=1"' in page


def test_chart_svg_stacks_escapes_and_groups_sources():
    home = module_from_path(str(DATASETTE_DIR / "plugins" / "arshif_home.py"), name="arshif_home_test")
    rows = [("2025-03-01", "<b>evil</b>", 2), ("2025-03-01", "good", 4), ("2025-03-03", "good", 1),
            ("2099-01-01", "good", 50), ("not a date", "good", 9)]
    rows += [("2025-03-02", f"s{i}", 1) for i in range(12)]
    svg = str(home.chart_svg(rows, "/archive/articles", today=date(2025, 6, 1)))
    assert "<b>evil</b>" not in svg and "&lt;b&gt;evil&lt;/b&gt;" in svg
    assert "2099" not in svg  # a future date does not stretch the axis
    bar = re.compile(r'height="([\d.]+)" fill="#\w+" data-day="([^"]+)" data-source="([^"]+)"')
    heights = {(day, source): float(height) for height, day, source in bar.findall(svg)}
    evil = heights[("2025-03-01", "&lt;b&gt;evil&lt;/b&gt;")]
    assert heights[("2025-03-01", "good")] == pytest.approx(2 * evil, abs=0.02)
    assert heights[("2025-03-01", "good")] == pytest.approx(4 * heights[("2025-03-03", "good")], abs=0.02)
    assert ("2025-03-02", "أخرى · other") in heights  # 14 sources: the smallest are summed
    assert "2025-03-01 · good: 4" in svg
    empty = str(home.chart_svg([], "/archive/articles"))
    assert "<svg" not in empty and "no dated articles" in empty


async def test_served_database_is_read_only(archive_db):
    ds = make_datasette(archive_db)
    db = ds.get_database("archive")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.execute("insert into crawls (source, status) values ('x', 'running')")
    response = await ds.client.get("/archive", params={"sql": "delete from articles"})
    assert response.status_code == 400
    assert len(await _rows(ds, "/archive/articles", _size="max")) > 0


async def test_immutable_snapshot_after_checkpoint_serves_every_article(archive_db):
    with sqlite3.connect(archive_db) as connection:
        count = connection.execute("select count(*) from articles").fetchone()[0]
        connection.execute("pragma wal_checkpoint(truncate)")
    metadata = _metadata()
    from datasette.app import Datasette

    ds = Datasette(immutables=[str(archive_db)], metadata=metadata,
                   plugins_dir=str(DATASETTE_DIR / "plugins"), template_dir=str(DATASETTE_DIR / "templates"))
    assert not ds.get_database("archive").is_mutable
    assert len(await _rows(ds, "/archive/articles", _size="max")) == count
    assert len(await _rows(ds, "/archive/search", q="الارهاب")) >= 2


def test_serve_command_is_safe_to_publish():
    command = datasette_command("data/archive.db")
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("sql_time_limit_ms") + 1] == "3000"
    assert "--plugins-dir" in command and "--template-dir" in command


@pytest.mark.skipif("immutable" not in inspect.signature(datasette_command).parameters,
                    reason="datasette_command has no `immutable` option yet (see datasette/README.md)")
def test_serve_command_can_serve_immutable():
    command = datasette_command("data/archive.db", immutable=True)
    assert command[command.index("-i") + 1] == "data/archive.db"
    assert "data/archive.db" not in command[: command.index("-i")]


# --- facets from article_counts, `?_q=` window (issue 21 point 1) -----------------------------

def _grouped(db, column: str) -> dict:
    rows = db.execute(f"SELECT coalesce({column}, ''), count(*) FROM articles GROUP BY 1").fetchall()
    return {value: count for value, count in rows}


def _counted(db, column: str) -> dict:
    return dict(db.execute(f"SELECT {column}, sum(articles) FROM article_counts GROUP BY 1").fetchall())


def test_article_counts_follow_inserts_replacements_moves_and_deletes(archive_db):
    db = open_archive(archive_db)
    assert _counted(db, "source") == _grouped(db, "source")  # filled by m090 from the crawled articles
    first = next_article_id(db)
    fresh = [{"id": first + i, "url": f"https://example.org/c/{i}", "source": f"s{i % 3}", "title": "عنوان",
              "text": "نص", "language": "ar", "fetched_at": "2030-01-01",
              "published": None if i % 4 == 0 else f"2024-0{1 + i % 5}-1{i % 9}T23:30:00+03:00"} for i in range(40)]
    insert_rows(db, fresh, [])
    insert_rows(db, fresh[:5], [])  # the same URLs again: ignored, not counted twice
    moved = {**fresh[1], "source": "s9", "published": "2025-12-31T08:00:00"}
    insert_rows(db, [], [], replacements=[moved])
    with db.atomic():
        db.execute("UPDATE articles SET published = '2020-02-02' WHERE id = ?", [first + 2])
        db.execute("DELETE FROM articles WHERE id IN (?, ?)", [first + 3, first + 6])
    assert _counted(db, "source") == _grouped(db, "source")
    assert _counted(db, "day") == _grouped(db, "date(published)")
    assert _counted(db, "source")["s9"] == 1
    assert all(n > 0 for (n,) in db.execute("SELECT articles FROM article_counts"))
    db.close()


async def test_unfiltered_articles_facets_read_article_counts(archive_db):
    db = open_archive(archive_db)
    expected_sources = {k: v for k, v in _grouped(db, "source").items() if k}
    expected_days = {k: v for k, v in _grouped(db, "date(published)").items() if k}
    db.close()
    ds = make_datasette(archive_db)
    facets = (await ds.client.get("/archive/articles.json")).json()["facet_results"]
    assert {r["value"]: r["count"] for r in facets["source"]["results"]} == expected_sources
    assert {r["value"]: r["count"] for r in facets["published"]["results"]} == dict(
        sorted(expected_days.items(), key=lambda kv: (-kv[1], kv[0]))[:30])
    assert "language" not in facets  # one value in an Arabic archive: not a default facet any more
    # the whole table's counts come from article_counts; a filtered page counts its own rows
    with sqlite3.connect(archive_db) as connection:
        connection.execute("UPDATE article_counts SET articles = articles + 1000 WHERE source = 'demo' "
                           "AND day = (SELECT min(day) FROM article_counts WHERE source = 'demo')")
    ds = make_datasette(archive_db)
    whole = (await ds.client.get("/archive/articles.json")).json()["facet_results"]["source"]["results"]
    assert {r["value"]: r["count"] for r in whole}["demo"] == expected_sources["demo"] + 1000
    filtered = (await ds.client.get("/archive/articles.json?source=demo")).json()["facet_results"]
    assert [(r["value"], r["count"]) for r in filtered["source"]["results"]] == [("demo", expected_sources["demo"])]
    page = (await ds.client.get("/archive/articles?source=demo")).text
    assert "published__date=" in page


def _searchable_archive(path, matches: int):
    db = open_archive(path)
    first = next_article_id(db)
    insert_rows(db, [{"id": first + i, "url": f"https://example.org/w/{i}", "source": f"s{i % 2}",
                      "title": f"خبر {i}", "text": "انعقد اجتماع زقزوق اليوم" if i < matches else "نص زنبرك",
                      "language": "ar", "fetched_at": "2030-01-01", "published": f"2024-01-{1 + i % 28:02d}"}
                     for i in range(matches + 10)], [])
    db.close()
    return first


async def test_table_search_beyond_the_window_covers_the_newest_matches_and_says_so(archive_db):
    first = _searchable_archive(archive_db, 60)
    metadata = _metadata()
    metadata["plugins"] = {"arshif-search": {"table_window": 25}}
    ds = make_datasette(archive_db, metadata)
    data = (await ds.client.get("/archive/articles.json", params={"_q": "زقزوق", "_size": "max"})).json()
    assert data["filtered_table_rows_count"] == 25
    assert sorted(row[0] for row in data["rows"]) == list(range(first + 35, first + 60))  # the newest 25
    assert "25 most recently archived of 60 matches" in data["human_description_en"]
    assert sum(r["count"] for r in data["facet_results"]["source"]["results"]) == 25
    every = (await ds.client.get("/archive/articles.json", params={"_q": "زقزوق", "_q_all": "1"})).json()
    assert every["filtered_table_rows_count"] == 60
    csv = (await ds.client.get("/archive/articles.csv", params={"_q": "زقزوق", "_size": "max"})).text
    assert csv.count("https://example.org/w/") == 60  # an export is never windowed
    page = (await ds.client.get("/archive/articles", params={"_q": "زقزوق"})).text
    assert "_q_all=1" in page
    few = (await ds.client.get("/archive/articles.json", params={"_q": "زنبرك"})).json()
    assert few["filtered_table_rows_count"] == 10 and "most recently" not in few["human_description_en"]


# --- datasette's own pages in Arabic (issue 21 point 6) ----------------------------------------

async def test_table_row_and_database_pages_speak_arabic_with_english_beside(archive_db):
    ds = make_datasette(archive_db)
    table = (await ds.client.get("/archive/articles")).text
    for arabic, english in (("الرئيسية", "home"), ("صفاً، مرتبة بحسب published تنازلياً", "rows sorted by published descending"),
                            ("تطبيق", "Apply"), ("هذه البيانات بصيغة", "this data as"), ("تصدير متقدم", "Advanced export"),
                            ("تاريخ النشر", "by day")):
        assert arabic in table and english in table, arabic
    assert 'lang="ar" dir="rtl"' in table and "<time datetime=" in table
    empty = (await ds.client.get("/archive/articles?source=nowhere")).text
    assert "لا صفوف" in empty and "0 records" in empty
    row = (await ds.client.get("/archive/articles/1")).text
    assert "هذه البيانات بصيغة" in row and "قراءة المقال" in row and 'lang="ar" dir="rtl"' in row
    database = (await ds.client.get("/archive")).text
    for arabic in ("الجداول", "استعلامات جاهزة", "المقالات | Articles", "عمليات الزحف | Crawls"):
        assert arabic in database, arabic
    index = (await ds.client.get("/")).text
    assert re.search(r"\d+ جدول", index) and re.search(r"\(\d+ tables", index)


async def test_an_interrupted_query_names_the_time_limit_and_never_shows_hidden_sql(archive_db):
    metadata = _metadata()
    slow = ("with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000000) "
            "select count(*) as secret_count_of_c from c")
    metadata["databases"]["archive"]["queries"]["slow"] = {"title": "بطيء | Slow", "sql": slow, "hide_sql": True}
    ds = make_datasette(archive_db, metadata)
    page = await ds.client.get("/archive/slow", params={"_timelimit": 20})
    assert page.status_code == 400 and "انتهت مهلة الاستعلام" in page.text and "secret_count_of_c" not in page.text
    data = await ds.client.get("/archive/slow.json", params={"_timelimit": 20})
    assert data.status_code == 400 and "secret_count_of_c" not in data.text
    assert data.json()["title"] == "SQL Interrupted" and "time limit" in data.json()["error"]


async def test_articles_table_page_shows_20_articles_with_the_start_of_each_text(archive_db):
    first = _searchable_archive(archive_db, 30)
    db = open_archive(archive_db)
    with db.atomic():
        db.execute("UPDATE articles SET text = ? WHERE id = ?", ["كلمة " * 400, first + 39])
    db.close()
    ds = make_datasette(archive_db)
    page = (await ds.client.get("/archive/articles", params={"_sort_desc": "id"})).text
    assert page.count('<tr>') - 1 == 20  # the header row, then 20 articles
    cell = re.search(r'<td class="col-text[^"]*">(.*?)</td>', page, re.S).group(1)
    assert cell.count("كلمة") < 80 and f'href="/-/article/{first + 39}"' in cell  # the start, then a link
    full = (await ds.client.get("/archive/articles.json", params={"id": first + 39, "_shape": "array"})).json()
    assert full[0]["text"].count("كلمة") == 400  # JSON (and CSV) carry the whole text


def test_serve_refuses_an_archive_from_an_older_version_until_upgraded(tmp_path):
    """Pages of an archive without the new columns would fail: serve says so; --upgrade migrates it first."""
    from sqlite_utils import Database

    from crawler.cli.serve import pending_migrations
    from pipelines.archive import database
    from pipelines.text.search_text import register_functions
    from tests.conftest import run_arshif

    path = tmp_path / "old.db"
    old = Database(path)
    register_functions(old.conn, {})
    database.migrations.apply(old, stop_before="m007_stories")
    old["articles"].insert({"id": 5, "url": "http://x.test/5", "source": "x", "title": "مؤتمر", "text": "نص"})
    old.close()
    before = path.read_bytes()
    assert "m007_stories" in pending_migrations(path) and path.read_bytes() == before  # asking writes nothing
    refused = run_arshif("serve", str(path), "--port", "1")
    assert refused.returncode == 2 and "arshif serve --upgrade" in refused.stderr and path.read_bytes() == before
    upgraded = run_arshif("serve", str(path), "--upgrade", "--port", "1", "--host", "256.0.0.1", timeout=120)
    assert "upgrading" in upgraded.stderr  # then datasette starts (and fails on the impossible host)
    assert pending_migrations(path) == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT story_id FROM articles WHERE id = 5").fetchone() == (5,)
        assert connection.execute("SELECT source, articles FROM article_counts").fetchall() == [("x", 1)]
