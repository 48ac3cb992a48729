"""The search page as a search engine: syntax, totals, pages, sort, plain exports, any database name."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from crawler.cli.serve import datasette_command
from pipelines.archive.database import insert_rows, open_archive
from pipelines.text.search_query import parse
from tests.conftest import make_datasette

ARTICLES = [
    # id, source, published, title, text
    (1, "alpha", "2024-01-10T09:00:00", "مؤتمر صحفي لوزير الصحة", "عقد الوزير مؤتمراً صحفياً عن الحملة."),
    (2, "beta", "2024-03-05T09:00:00", "صحفي يغطي المؤتمر", "قال صحفي إن المؤتمر تأجل بسبب التهديدات."),
    (3, "alpha", "2024-06-20T09:00:00", "ندوة عن الاقتصاد", "ناقشت الندوة الأسواق والأسعار."),
    (4, "beta", "2025-02-01T09:00:00", "الارهاب والتطرف", "تهديد جديد من جماعات الإرهاب في المنطقة."),
    (5, "alpha", "2025-05-01T09:00:00", "تقرير عن الأسواق", "تهديداً للأسواق الناشئة <mark>x</mark> &amp; أكثر."),
    *[(10 + n, "gamma", f"2023-{1 + n % 12:02d}-15T09:00:00", f"خبر رقم {n} عن الطقس", "الطقس مشمس والحرارة معتدلة.")
      for n in range(45)],
]


@pytest.fixture(scope="module")
def syntax_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("syntax") / "archive.db"
    db = open_archive(path)
    insert_rows(db, [
        {"id": i, "url": f"https://{s}.example/{i}", "source": s, "published": p, "title": t, "text": x, "language": "ar"}
        for i, s, p, t, x in ARTICLES
    ], [])
    db.close()
    return path


async def _ids(ds, q, db="archive", **args):
    response = await ds.client.get(f"/{db}/search.json", params={"q": q, "_shape": "array", **args})
    assert response.status_code == 200, response.text
    return [row["article_id"] for row in response.json()]


@pytest.mark.parametrize(("typed", "expected"), [
    ("مؤتمر", {1, 2}),
    ('"مؤتمر صحفي"', {1}),  # the phrase in that order
    ('"صحفي مؤتمر"', set()),  # reversed: no article has it
    ("مؤتمر صحفي", {1, 2}),  # two words, anywhere
    ("ندوة OR الارهاب", {3, 4}),
    ("مؤتمر -ندوة", {1, 2}),
    ("صحفي -مؤتمر", set()),
    ("صحفي NOT الحملة", {2}),
    ("الاس*", {3, 5}),  # prefix: الأسواق، الأسعار
    ("title:صحفي", {1, 2}),
    ("title:تهديد", set()),
    ("تهديد", {2, 4, 5}),  # تهديد، تهديداً، التهديدات: tanween folded
    ("تهديداً", {2, 4, 5}),
    ("مؤتمر source:beta", {2}),
    ("تهديد date:2025", {4, 5}),
    ("تهديد from:2025-03", {5}),
    ("تهديد to:2024-12", {2}),
    ("-مؤتمر", set()),  # a NOT alone matches nothing, and says so
])
async def test_search_syntax(syntax_db, typed, expected):
    ds = make_datasette(syntax_db)
    assert set(await _ids(ds, typed)) == expected


def test_how_the_query_was_understood_is_said():
    said = " · ".join(parse('"مؤتمر صحفي" OR ندوة -الارهاب title:وزير source:alpha date:2024').said)
    for part in ("phrase «مؤتمر صحفي»", "or", "without", "in the title", "source = alpha", "date"):
        assert part in said, (part, said)
    assert "NOT alone" in " ".join(parse("-مؤتمر").said)


async def test_search_page_shows_total_pages_and_sorts_by_date(syntax_db):
    ds = make_datasette(syntax_db)
    page = (await ds.client.get("/archive/search", params={"q": "الطقس"})).text
    assert "عدد النتائج: 45" in page and "page 1 of 3" in page
    assert 'rel="next"' in page and 'rel="prev"' not in page
    assert "understood as" in page
    second = await _ids(ds, "الطقس", page="2")
    first = await _ids(ds, "الطقس")
    assert len(first) == len(second) == 20 and not set(first) & set(second)
    assert len(await _ids(ds, "الطقس", page="3")) == 5
    by_date = (await ds.client.get("/archive/search.json", params={"q": "الطقس", "sort": "date", "_shape": "array"})).json()
    dates = [row["published"] for row in by_date]
    assert dates == sorted(dates, reverse=True)
    last = (await ds.client.get("/archive/search", params={"q": "الطقس", "page": "3"})).text
    assert 'rel="prev"' in last and 'rel="next"' not in last and "page 3 of 3" in last


async def test_search_csv_is_plain_text(syntax_db):
    ds = make_datasette(syntax_db)
    response = await ds.client.get("/archive/search.csv", params={"q": "الأسواق"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {int(r["article_id"]) for r in rows} == {3, 5}
    report = next(r for r in rows if r["article_id"] == "5")
    assert report["title"] == "تقرير عن الأسواق"
    assert "&amp;" in report["snippet"] and "<mark>x</mark>" in report["snippet"]  # the stored text, as stored
    assert "<mark>الأسواق</mark>" not in response.text  # no highlighting markup added
    page = (await ds.client.get("/archive/search", params={"q": "الأسواق"})).text
    assert "<mark>الأسواق</mark>" in page and "&lt;mark&gt;x&lt;/mark&gt;" in page


async def test_any_database_name_gets_search_queries_facets_and_titles(syntax_db, tmp_path):
    shard = tmp_path / "shard-7.db"
    with sqlite3.connect(syntax_db) as source, sqlite3.connect(shard) as copy:
        source.backup(copy)
    ds = make_datasette(shard)
    assert set(await _ids(ds, '"مؤتمر صحفي"', db="shard-7")) == {1}
    page = (await ds.client.get("/shard-7/search", params={"q": "مؤتمر"})).text
    assert "بحث | Search" in page and "<mark>" in page and "عدد النتائج: 2" in page
    table = (await ds.client.get("/shard-7/articles")).text
    assert "المقالات | Articles" in table and "_facet=source" in table or "facet-source" in table
    queries = (await ds.client.get("/shard-7.json")).json()
    assert {"search", "latest_crawls", "articles_without_date"} <= {q["name"] for q in queries["queries"]}
    home = (await ds.client.get("/")).text
    assert 'action="/shard-7/search"' in home


def test_serve_turns_suggested_facets_off():
    command = datasette_command("data/archive.db")
    position = command.index("suggest_facets")
    assert command[position - 1] == "--setting" and command[position + 1] == "off"


def test_m030_indexes_serve_the_plans(syntax_db):
    connection = sqlite3.connect(syntax_db)
    plans = {
        "select count(*) from articles where crawl_id = 1": "idx_articles_crawl_id",
        "select id from articles where published is null or trim(published) = '' order by fetched_at desc":
            "idx_articles_undated",
        "select date(published), count(*) from articles where date(published) is not null group by date(published)":
            "idx_articles_published_date",
    }
    for sql, index in plans.items():
        plan = " ".join(row[-1] for row in connection.execute("explain query plan " + sql))
        assert index in plan, (sql, plan)


def test_m140_m141_indexes_serve_the_largest_stories_and_the_duplicates_facets(syntax_db):
    """The plans of the largest stories' candidates and of the duplicates table's facets as datasette
    words them (a subquery of the table): index scans, not a read of every row."""
    connection = sqlite3.connect(syntax_db)
    table = "(select id, url, source, kind, fetched_at from duplicates)"
    plans = {
        "select story_id as id from articles where story_id != id group by story_id": "idx_articles_story_members",
        f"select kind as value, count(*) as count from {table} where kind is not null group by kind"
        " order by count desc, value limit 31": "COVERING INDEX idx_duplicates_kind",
        f"select date(fetched_at) as value, count(*) as count from {table} where date(fetched_at) is not null"
        " group by date(fetched_at) order by count desc, value limit 31": "idx_duplicates_fetched_date",
    }
    for sql, index in plans.items():
        plan = " ".join(row[-1] for row in connection.execute("explain query plan " + sql))
        assert index in plan, (sql, plan)


@pytest.mark.parametrize("query", ["articles_without_date", "duplicate_clusters", "articles_per_source_per_day"])
async def test_long_canned_queries_are_paged(syntax_db, query):
    ds = make_datasette(syntax_db)
    page = await ds.client.get(f"/archive/{query}")
    assert page.status_code == 200
    assert "(page 1)" in page.text
    second = await ds.client.get(f"/archive/{query}.json", params={"page": "2", "_shape": "array"})
    assert second.status_code == 200


async def test_per_day_counts_page_by_month(syntax_db):
    ds = make_datasette(syntax_db)
    seen = []
    for page in range(1, 40):
        rows = (await ds.client.get("/archive/articles_per_source_per_day.json",
                                    params={"page": str(page), "_shape": "array"})).json()
        assert all(row["articles"] for row in rows)
        seen.extend(rows)
    assert sum(row["articles"] for row in seen) == len(ARTICLES)  # every dated article, once


def test_serve_streams_every_csv_row():
    command = datasette_command("data/archive.db")
    position = command.index("max_csv_mb")
    assert command[position + 1] == "0"  # no 100 MB cut answered with HTTP 200


async def test_streamed_articles_csv_has_every_row(syntax_db):
    ds = make_datasette(syntax_db)
    response = await ds.client.get("/archive/articles.csv", params={"_stream": "1", "_size": "max"})
    assert response.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == len(ARTICLES)


ATOM = "{http://www.w3.org/2005/Atom}"


async def test_atom_feed_of_a_search_and_of_a_source(syntax_db):
    from xml.etree import ElementTree

    ds = make_datasette(syntax_db)
    response = await ds.client.get("/archive/search.atom", params={"q": "تهديد", "sort": "date"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and "تهديد" in feed.find(f"{ATOM}title").text
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href").rsplit("/", 1)[-1] for e in entries] == ["5", "4", "2"]
    assert all(e.find(f"{ATOM}updated").text.endswith("+00:00") for e in entries)
    assert entries[0].find(f"{ATOM}title").text == "تقرير عن الأسواق"
    assert "<mark>x</mark>" in entries[0].find(f"{ATOM}summary").text  # stored text, escaped as XML text
    source = await ds.client.get("/archive/articles.atom", params={"source": "beta", "_sort_desc": "published"})
    titles = [e.find(f"{ATOM}title").text for e in ElementTree.fromstring(source.content).findall(f"{ATOM}entry")]
    assert titles == ["الارهاب والتطرف", "صحفي يغطي المؤتمر"]
    page = (await ds.client.get("/archive/search", params={"q": "تهديد"})).text
    assert "/archive/search.atom?q=" in page and "sort=date" in page


async def test_database_page_does_not_count_the_search_index_shadow_tables(syntax_db):
    ds = make_datasette(syntax_db)
    await ds.invoke_startup()
    counts = await ds.get_database("archive").table_counts(5)
    assert counts["articles"] == len(ARTICLES)
    assert counts["articles_fts_content"] is None and counts["articles_fts_data"] is None  # uninterruptible count(*)
    assert (await ds.client.get("/archive")).status_code == 200


async def test_error_pages_in_arabic_and_a_timed_out_query_hides_its_sql(syntax_db):
    ds = make_datasette(syntax_db)
    missing = await ds.client.get("/archive/no_such_table")
    assert missing.status_code == 404 and "الصفحة غير موجودة" in missing.text and 'lang="ar" dir="rtl"' in missing.text
    slow = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
    interrupted = await ds.client.get("/archive", params={"sql": slow, "_timelimit": "20"})
    assert interrupted.status_code == 400
    assert "انتهت مهلة الاستعلام" in interrupted.text and "SQL Interrupted" in interrupted.text
    assert "with recursive" not in interrupted.text


async def test_more_matches_than_the_ranking_window(tmp_path):
    """Over 5,000 matches: relevance ranks the newest 5,000, the total is still every match, date sort reaches all."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    insert_rows(db, [{"id": i, "url": f"https://x.example/{i}", "source": "x", "published": "2019-06-01" if i == 3 else f"2020-01-01T{i // 60 % 24:02d}:{i % 60:02d}",
                      "title": "خبر", "text": "الطقس اليوم" if i != 3 else "الطقس الطقس الطقس", "language": "ar"}
                     for i in range(1, 5102)], [])
    db.close()
    ds = make_datasette(path)
    page = (await ds.client.get("/archive/search", params={"q": "الطقس"})).text
    assert "عدد النتائج: 5,101" in page and "most recently archived matches" in page
    ranked = await _ids(ds, "الطقس")
    assert len(ranked) == 20 and min(ranked) >= 5101 - 4999 and 3 not in ranked
    assert "page 1 of 250)" in page  # relevance pages end with the window
    assert await _ids(ds, "الطقس", sort="date", page="256") == [3]  # the oldest, on the last page
    assert 3 in await _ids(ds, "الطقس to:2019")
