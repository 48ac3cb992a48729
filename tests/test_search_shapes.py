"""The search query's shapes give the pages that ranking or sorting every match would give.

The `search` canned query chooses its plan by what it finds (datasette/metadata.yaml):
by relevance it collapses stories within the best 100 matches a page and collapses every
match only when those do not fill the page; by date, when the matches are common, it
walks the `published` index newest first and keeps the matches until the page is filled,
and otherwise (rare word, a source or date filter, a page the walk does not fill) sorts
every match. Each page is compared here with a reference computed in Python from the FTS
index's own bm25 scores and the articles' dates and stories, through datasette's client.

The archive has a story of 150 versions that are the newest and best-ranked matches, so
the first page of either sort is not filled by the window (the full collapse answers) and
the second is; undated articles, ties of date, stories of three and single articles.
"""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.archive.database import insert_rows, open_archive
from pipelines.text.search_query import parse
from tests.conftest import make_datasette

COMMON, SECOND = "مؤتمر", "وزارة"
BIG_STORY = range(1101, 1251)  # 150 versions: newer and better ranked than every other match
RANKED_WINDOW = 5000  # the search query's relevance cutoff (most recently archived matches)


def _article(i: int) -> dict:
    if i in BIG_STORY:
        published, title = f"2025-06-{1 + (i - 1101) % 28:02d}T10:00:00", f"{COMMON} {COMMON} عاجل"
    else:
        published = None if i % 33 == 0 else f"2024-{1 + i * 3 % 12:02d}-{1 + i * 7 % 28:02d}T09:00:00"
        title = f"خبر رقم {i}"
    words = [f"{COMMON}اً", "في", "العاصمة"] + ([SECOND] if i % 3 == 0 else []) + ["اليوم"] * (i % 5)
    return {"id": i, "url": f"https://{'alpha' if i % 2 else 'beta'}.example/{i}", "source": "alpha" if i % 2 else "beta",
            "published": published, "title": title, "text": " ".join(words), "language": "ar"}


def _story(i: int) -> int:
    if i in BIG_STORY:
        return BIG_STORY[0]
    return i - i % 3 + 3 if i <= 600 else i  # stories of three up to 600, then single articles


@pytest.fixture(scope="module")
def shapes_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("shapes") / "archive.db"
    db = open_archive(path)
    insert_rows(db, [_article(i) for i in range(1, 1301)], [])
    db.close()
    with sqlite3.connect(path) as connection:
        connection.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(_story(i), i) for i in range(1, 1301)])
    return path


def expected(path, typed: str, sort: str, collapsed: bool) -> list[tuple[int, int]]:
    """(article id, other versions) of every result in order, from every match: the reference."""
    parsed = parse(typed)
    with sqlite3.connect(path) as connection:
        scores = dict(connection.execute("SELECT rowid, bm25(articles_fts, 4.0, 1.0) FROM articles_fts "
                                         "WHERE articles_fts MATCH ?", [parsed.fts]))
        rows = {i: (source, published, story) for i, source, published, story in connection.execute(
            "SELECT id, source, published, story_id FROM articles")}
    matches = [i for i in scores if (not parsed.source or rows[i][0] == parsed.source)
               and (not parsed.date_from or (rows[i][1] or "") >= parsed.date_from and rows[i][1] is not None)
               and (not parsed.date_to or rows[i][1] is not None and rows[i][1] < parsed.date_to)]
    if sort == "date":
        def key(i):  # published desc with undated last, then id desc
            return (rows[i][1] is not None, rows[i][1] or "", i)
        order = sorted(matches, key=key, reverse=True)
    else:
        if not (parsed.source or parsed.date_from or parsed.date_to):  # a filtered search ranks every match
            matches = sorted(matches, reverse=True)[:RANKED_WINDOW]
        order = sorted(matches, key=lambda i: (scores[i], -i))
    if not collapsed:
        return [(i, 0) for i in order]
    shown, members = {}, {}
    for i in order:  # the first of a story in the page order is the one shown
        story = rows[i][2]
        shown.setdefault(story, i)
        members[story] = members.get(story, 0) + 1
    return [(i, members[rows[i][2]] - 1) for i in order if shown[rows[i][2]] == i]


async def _page(ds, typed, sort, collapsed, page) -> list[tuple[int, int]]:
    response = await ds.client.get("/archive/search.json", params={
        "q": typed, "sort": sort, "all": "" if collapsed else "1", "page": page, "_shape": "array"})
    assert response.status_code == 200, response.text
    return [(row["article_id"], row["other_versions"]) for row in response.json()]


@pytest.mark.parametrize("typed", [COMMON, f"{COMMON} {SECOND}", f"{COMMON} source:alpha",
                                   f"{COMMON} from:2024-03 to:2024-09", f"{COMMON} source:beta date:2024"])
@pytest.mark.parametrize("sort", ["", "date"])
@pytest.mark.parametrize("collapsed", [True, False])
async def test_every_page_is_the_page_of_every_match_sorted(shapes_db, typed, sort, collapsed):
    ds = make_datasette(shapes_db)
    reference = expected(shapes_db, typed, sort, collapsed)
    assert len(reference) > 60
    last = (len(reference) + 19) // 20
    for page in sorted({1, 2, 3, last - 1, last, last + 1}):
        assert await _page(ds, typed, sort, collapsed, page) == reference[(page - 1) * 20:page * 20], (page, last)
    total = len(expected(shapes_db, typed, sort, False))  # every matching article, filters applied
    html = (await ds.client.get("/archive/search", params={"q": typed, "sort": sort})).text
    assert f"عدد النتائج: {total:,}" in html


async def test_a_story_with_more_versions_than_the_window_shows_once_and_the_page_fills(shapes_db):
    ds = make_datasette(shapes_db)
    for sort in ("", "date"):
        first = await _page(ds, COMMON, sort, True, 1)
        assert len(first) == 20
        assert first[0][0] in BIG_STORY and first[0][1] == len(BIG_STORY) - 1
        assert sum(i in BIG_STORY for i, _ in first) == 1
        every = await _page(ds, COMMON, sort, False, 1)
        assert all(i in BIG_STORY for i, _ in every)  # without collapse the story fills the page
