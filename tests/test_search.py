"""Arabic search through datasette: what people type finds how articles spell it."""

from __future__ import annotations

import re
import sqlite3

import pytest
from datasette.utils import module_from_path

from crawler.cli.common import DATASETTE_DIR
from pipelines.archive.database import insert_rows, next_article_id, open_archive
from pipelines.text.normalize import tokens
from pipelines.text.search_text import search_text
from tests.conftest import make_datasette

search_plugin = module_from_path(str(DATASETTE_DIR / "plugins" / "arshif_search.py"), name="arshif_search_test")
display_plugin = module_from_path(str(DATASETTE_DIR / "plugins" / "arshif_display.py"), name="arshif_display_test")

# Articles the demo site lacks: the clitic forms of الإرهاب, a fully vocalized text.
EXTRA_ARTICLES = {
    "/extra/clitics.html": ("ندوة عن التطرف والإرهاب في المنطقة", "قال المشاركون إن التصدي للإرهاب مسؤولية مشتركة."),
    "/extra/vocalized.html": ("مُؤْتَمَرٌ صَحَفِيٌّ لِوَزِيرِ الصِّحَّةِ", "عَقَدَ الوَزِيرُ مُؤْتَمَرًا صَحَفِيًّا فِي عَامِ ٢٠٢٤."),
}




@pytest.fixture(scope="module")
def search_db(demo_crawl, tmp_path_factory):
    """The demo archive plus EXTRA_ARTICLES, written the way the crawl writes (FTS triggers)."""
    path = tmp_path_factory.mktemp("search") / "archive.db"
    with sqlite3.connect(demo_crawl.db_path) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    db = open_archive(path)
    first = next_article_id(db)
    rows = [
        {"id": first + i, "url": f"http://example.org{p}", "source": "extra", "title": t, "text": x, "language": "ar"}
        for i, (p, (t, x)) in enumerate(EXTRA_ARTICLES.items())
    ]
    insert_rows(db, rows, [])
    db.close()
    return path


async def _search(ds, query: str) -> list[dict]:
    response = await ds.client.get("/archive/search.json", params={"q": query, "_shape": "array"})
    assert response.status_code == 200, response.text
    return response.json()


def _path(row_or_url) -> str:
    url = row_or_url if isinstance(row_or_url, str) else row_or_url["url"]
    return "/" + url.split("/", 3)[3]


async def _paths(ds, query: str) -> list[str]:
    rows = await _search(ds, query)
    urls = dict(
        sqlite3.connect(ds.databases["archive"].path).execute("select id, url from articles").fetchall()
    )
    return [_path(urls[row["article_id"]]) for row in rows]


# --- the snippet function ----------------------------------------------------------------


def test_snippet_marks_the_original_spelling_of_every_matching_word():
    text = "أكد أن مكافحة الإرهاب والإرهابيين تتطلب التصدي للإرهاب معاً"
    result = search_plugin.snippet(text, "الارهاب", 0)
    assert re.findall(r"<mark>(.*?)</mark>", result) == ["الإرهاب", "والإرهابيين", "للإرهاب"]
    assert re.sub(r"</?mark>", "", result) == text


def test_snippet_matches_with_or_without_tashkeel_and_in_any_digit_script():
    assert search_plugin.snippet("عُقِدَ المُؤْتَمَرُ عام ٢٠١٧", "مؤتمر 2017", 0) == (
        "عُقِدَ <mark>المُؤْتَمَرُ</mark> عام <mark>٢٠١٧</mark>"
    )


def test_snippet_marks_the_clitic_forms_of_allah():
    # الله is the one stem that is not a substring of its token (لله → الله).
    assert search_plugin.snippet("حزب الله ولله الأمر", "لله", 0) == "حزب <mark>الله</mark> <mark>ولله</mark> الأمر"


def test_snippet_escapes_the_text_and_keeps_only_its_own_marks():
    text = 'اختبار <script>alert(1)</script> & "نص"'
    result = search_plugin.snippet(text, "alert", 0)
    assert "<script>" not in result
    assert result == "اختبار &lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; &amp; &#34;نص&#34;"


def test_snippet_windows_long_text_around_the_best_match():
    filler = " ".join(["كلمة"] * 200)
    text = f"{filler} مؤتمر صحفي عن الإرهاب {filler}"
    result = search_plugin.snippet(text, "مؤتمر الارهاب", 20)
    assert result.startswith("… ") and result.endswith(" …")
    assert "<mark>مؤتمر</mark> صحفي عن <mark>الإرهاب</mark>" in result
    assert len(result.split()) <= 20 + 2 + 4  # words, ellipses, the <mark> tags split nothing
    short = search_plugin.snippet("خبر قصير", "خبر")
    assert short == "<mark>خبر</mark> قصير"
    assert search_plugin.snippet(None, "خبر") is None
    assert search_plugin.snippet("خبر", "") == "خبر"


def test_marked_html_lets_through_nothing_but_mark():
    raw = '<img src=x onerror=alert(1)> <mark>ok</mark> &lt;b&gt; <mark>open'
    html = str(display_plugin.marked_html(raw))
    assert "<img" not in html and "&lt;img" in html
    assert "<mark>ok</mark>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert html.endswith("<mark>open</mark>")


def test_sql_functions_are_registered_by_prepare_connection():
    connection = sqlite3.connect(":memory:")
    search_plugin.prepare_connection(connection)
    row = connection.execute(
        "select arshif_fts_query(?), arshif_search_text(?), arshif_snippet(?, ?), arshif_snippet(?, ?, 0)",
        ["الإرهاب", "للإرهاب", "مؤتمر", "مؤتمرات", "مؤتمر", "مؤتمرات"],
    ).fetchone()
    assert row == ('"ارهاب"', "ارهاب", "<mark>مؤتمر</mark>", "<mark>مؤتمر</mark>")


# --- search through datasette --------------------------------------------------------------


async def test_search_folds_hamza_and_finds_clitic_forms(search_db):
    ds = make_datasette(search_db)
    paths = await _paths(ds, "الارهاب")
    assert set(paths) == {"/articles/1001.html", "/articles/1004.html", "/extra/clitics.html"}
    assert set(await _paths(ds, "ارهاب")) == set(paths)
    assert set(await _paths(ds, "الإرهاب")) == set(paths)
    rows = await _search(ds, "ارهاب")
    extra = next(r for r in rows if "ندوة" in r["title"])
    assert "والإرهاب" in extra["title"] and "للإرهاب" in extra["snippet"]
    assert "<mark>" not in extra["title"] + extra["snippet"]  # JSON and CSV carry plain text
    page = (await ds.client.get("/archive/search", params={"q": "ارهاب"})).text
    assert "<mark>والإرهاب</mark>" in page and "<mark>للإرهاب</mark>" in page


async def test_search_ignores_tashkeel_both_ways(search_db):
    ds = make_datasette(search_db)
    plain = await _paths(ds, "مؤتمر")
    vocalized = await _paths(ds, "مُؤْتَمَر")
    assert plain == vocalized
    assert {"/articles/1001.html", "/extra/vocalized.html"} <= set(plain)


async def test_search_arabic_indic_digits_match_ascii(search_db):
    ds = make_datasette(search_db)
    assert await _paths(ds, "2017") == await _paths(ds, "٢٠١٧") == ["/articles/1001.html"]
    assert await _paths(ds, "٣٥٠") == await _paths(ds, "350") == ["/articles/1006.html"]
    assert "/extra/vocalized.html" in await _paths(ds, "2024")


async def test_search_ranks_title_matches_first_and_requires_every_word(search_db):
    ds = make_datasette(search_db)
    rows = await _search(ds, "البنك المركزي")
    assert rows and "البنك" in rows[0]["title"]
    assert [r["relevance"] for r in rows] == sorted((r["relevance"] for r in rows), reverse=True)
    assert await _search(ds, "البنك الرياضي") == []  # both words, never in one article


@pytest.mark.parametrize("query", ["", "   ", "؟!", "«»"])
async def test_empty_or_punctuation_query_gives_no_rows_not_an_error(search_db, query):
    ds = make_datasette(search_db)
    assert await _search(ds, query) == []
    page = await ds.client.get("/archive/search", params={"q": query})
    assert page.status_code == 200


async def test_search_page_renders_rtl_results_linked_to_the_reading_view(search_db):
    ds = make_datasette(search_db)
    response = await ds.client.get("/archive/search", params={"q": "الارهاب"})
    assert response.status_code == 200
    page = response.text
    assert page.count('<li class="arshif-result">') == 3
    assert 'name="q" value="الارهاب" dir="rtl"' in page
    assert re.search(r'<a href="/-/article/\d+">[^<]*<mark>الإرهاب</mark>', page)
    assert '<div dir="rtl" lang="ar" class="arshif-rtl">' in page
    assert "/archive/search.csv?q=" in page and "_bom=1" in page


async def test_scraped_html_in_results_is_shown_as_text(search_db):
    ds = make_datasette(search_db)
    response = await ds.client.get("/archive/search", params={"q": "alert"})
    page = response.text
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


async def test_raw_html_selected_into_a_snippet_column_stays_text(search_db):
    ds = make_datasette(search_db)
    sql = "select '<script>alert(1)</script><mark>x</mark>' as snippet"
    page = (await ds.client.get("/archive", params={"sql": sql})).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>" in page


async def test_articles_table_accepts_an_arabic_search_with_facets(search_db):
    ds = make_datasette(search_db)
    rows = (await ds.client.get("/archive/articles.json", params={"_q": "الارهاب", "_shape": "array"})).json()
    assert {_path(r) for r in rows} == {"/articles/1001.html", "/articles/1004.html", "/extra/clitics.html"}
    only_extra = (
        await ds.client.get("/archive/articles.json", params={"_q": "الارهاب", "source": "extra", "_shape": "array"})
    ).json()
    assert [_path(r) for r in only_extra] == ["/extra/clitics.html"]
    nothing = await ds.client.get("/archive/articles.json", params={"_q": "؟", "_shape": "array"})
    assert nothing.status_code == 200 and nothing.json() == []


async def test_index_page_links_the_search(search_db):
    ds = make_datasette(search_db)
    page = (await ds.client.get("/")).text
    assert '<form class="arshif-search" action="/archive/search"' in page
    assert 'href="/archive/search"' in page


# --- what light stemming does to precision: the figures in datasette/README.md -------------

# Articles (demo paths) that use each query word in the query's sense, judged by reading
# every article any of the three indexes returned; see datasette/README.md.
RELEVANT = {
    "الارهاب": {"1001", "1004"},
    "مؤتمر": {"1001", "1005"},
    "انتخابات": {"1009"},
    "مستشفى": {"1005"},
    "المدينة": {"1012", "1014"},
    "اسواق": {"1002", "1008"},
    "الرياضة": {"1003"},
    "الدولي": {"1001", "1004", "1006", "1012", "1014"},
    "الأمن": {"1001", "1007"},
    "بيانات": {"1001", "1005", "1007"},
}
README = DATASETTE_DIR / "README.md"


def _modes(db_path):
    """Three in-memory FTS5 indexes of the archive: raw text, normalized, normalized + stemmed."""
    source = sqlite3.connect(db_path)
    docs = [(u.rsplit("/", 1)[-1].split(".")[0], t or "", x or "") for u, t, x in source.execute(
        "select url, title, text from articles where source = 'demo'")]
    memory = sqlite3.connect(":memory:")
    modes = {
        "raw": (lambda s: s, lambda q: re.findall(r"[^\W_]+", q)),
        "normalized": (lambda s: " ".join(tokens(s)), tokens),
        "stemmed": (search_text, lambda q: search_text(q).split()),
    }
    for name, (index_form, _) in modes.items():
        memory.execute(f"create virtual table {name} using fts5(title, text, tokenize='unicode61 remove_diacritics 0')")
        memory.executemany(
            f"insert into {name} (rowid, title, text) values (?, ?, ?)",
            [(i, index_form(t), index_form(x)) for i, (_, t, x) in enumerate(docs)],
        )

    def run(mode: str, query: str) -> set[str]:
        expression = " ".join(f'"{term}"' for term in modes[mode][1](query))
        rows = memory.execute(f"select rowid from {mode} where {mode} match ?", [expression])
        return {docs[rowid][0] for (rowid,) in rows}

    return run


def _readme_rows() -> dict[str, list[str]]:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([\u0600-\u06ff ]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


async def test_stemming_figures_in_readme_match_the_demo_archive(demo_crawl):
    run = _modes(demo_crawl.db_path)
    documented = _readme_rows()
    assert set(documented) == set(RELEVANT), "datasette/README.md lists the measured queries"
    totals = {mode: [0, 0] for mode in ("raw", "normalized", "stemmed")}  # retrieved, relevant retrieved
    for query, relevant in RELEVANT.items():
        cells = [str(len(relevant))]
        for mode in totals:
            found = run(mode, query)
            totals[mode][0] += len(found)
            totals[mode][1] += len(found & relevant)
            cells.append(f"{len(found)} ({len(found & relevant)})")
        assert documented[query] == cells, (query, documented[query], cells)
    relevant_total = sum(len(r) for r in RELEVANT.values())
    precision = {mode: hits / retrieved for mode, (retrieved, hits) in totals.items()}
    recall = {mode: hits / relevant_total for mode, (_, hits) in totals.items()}
    # The trade the README states: stemming finds every relevant article, at a cost in precision.
    assert recall["stemmed"] == 1.0
    assert recall["raw"] < recall["normalized"] < recall["stemmed"]
    assert precision["stemmed"] >= 0.8
    text = README.read_text(encoding="utf-8")
    for mode in totals:
        assert f"{precision[mode]:.0%}" in text and f"{recall[mode]:.0%}" in text, mode


def test_crawled_fts_rows_equal_the_search_form_of_each_article(demo_crawl):
    """The crawl's workers compute the FTS forms; the index must hold exactly what search_text gives."""
    db = sqlite3.connect(demo_crawl.db_path)
    rows = db.execute(
        "SELECT a.title, a.text, f.title, f.text FROM articles a JOIN articles_fts f ON f.rowid = a.id"
    ).fetchall()
    assert len(rows) == db.execute("SELECT count(*) FROM articles").fetchone()[0] > 5
    for title, text, fts_title, fts_text in rows:
        assert (fts_title, fts_text) == (search_text(title), search_text(text))


def test_insert_rows_hands_the_trigger_the_precomputed_forms_and_forgets_them(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    row = {"id": 1, "url": "http://example.org/a", "source": "x", "title": "عنوان", "text": "نص الخبر", "language": "ar",
           "fingerprints": {"search_title": "FORM-T", "search_text": "FORM-X"}}
    plain = {"id": 2, "url": "http://example.org/b", "source": "x", "title": "والإرهاب", "text": "للإرهاب", "language": "ar"}
    insert_rows(db, [row, plain], [])
    fts = dict((rowid, (t, x)) for rowid, t, x in db.execute("SELECT rowid, title, text FROM articles_fts"))
    assert fts[1] == ("FORM-T", "FORM-X")  # taken from the worker, not recomputed
    assert fts[2] == (search_text("والإرهاب"), search_text("للإرهاب"))
    assert db.search_forms == {}  # nothing carried into the next batch
    db.execute("UPDATE articles SET text = 'نص الخبر' || ' ' WHERE id = 1")
    assert db.execute("SELECT text FROM articles_fts WHERE rowid = 1").fetchone()[0] == search_text("نص الخبر ")


def test_search_form_stems_the_same_when_its_cache_fills(monkeypatch):
    """The stem cache empties itself when full; every token still gets light_stem's stem."""
    from pipelines.text import search_text as st
    from pipelines.text.normalize import light_stem

    monkeypatch.setattr(st, "_STEM_CACHE_SIZE", 3)
    words = ["والارهاب", "للارهاب", "مدرسة", "الكتاب", "والارهاب", "بالله", "فلسطين", "والارهاب"]
    assert st.search_form(words) == " ".join(map(light_stem, words))
