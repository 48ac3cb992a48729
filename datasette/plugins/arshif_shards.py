"""Datasette plugin: one search across every archive served, `/-/search` (and `/-/search.json`).

`arshif serve shard-1.db shard-2.db` publishes each shard with its own search
(`/shard-1/search`); this page asks each of them the same query through
datasette's own client (the `search` canned query, so folding, syntax,
permissions and story collapse are the shards' own), merges the results by
relevance (bm25 of each shard's index) or by date, and pages through the
merged list. Page p needs each shard's first p pages, so paging stops at
MAX_PAGES; each shard's own search goes deeper. The total is each shard's
count of matches, added up.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlencode

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from datasette import hookimpl

PAGE_SIZE = 20  # the search query's page
MAX_PAGES = 25
TEMPLATE = "arshif_shards_search.html"


def _search_plugin():
    """arshif_search.py (datasette registers plugin files under their file names)."""
    from datasette.plugins import pm

    return pm.get_plugin("arshif_search.py")


async def searchable_databases(datasette) -> list:
    """The served databases with a search index, in the order they were given."""
    found = []
    for name, db in datasette.databases.items():
        if not name.startswith("_") and await db.table_exists("articles_fts"):
            found.append(db)
    return found


async def shard_total(db, typed: str) -> int:
    return await _search_plugin().match_total(db, typed)


async def shard_rows(datasette, db, args: dict, pages: int) -> list[dict]:
    """The shard's first `pages` pages of the search (its canned query, through datasette's client)."""
    rows = []
    for page in range(1, pages + 1):
        response = await datasette.client.get(
            datasette.urls.database(db.name) + "/search.json?" + urlencode({**args, "page": page, "_shape": "array"}))
        if response.status_code != 200:
            raise ValueError(f"{db.name}: {response.status_code}")
        found = response.json()
        rows.extend(dict(row, database=db.name) for row in found)
        if len(found) < PAGE_SIZE:
            break
    return rows


def merged(rows: list[dict], by_date: bool) -> list[dict]:
    if by_date:
        return sorted(rows, key=lambda r: (r.get("published") or "", r["database"], r["article_id"]), reverse=True)
    return sorted(rows, key=lambda r: (-(r.get("relevance") or 0), r["database"], -r["article_id"]))


async def search_all(datasette, request):
    typed = (request.args.get("q") or "").strip()
    by_date = request.args.get("sort") == "date"
    collapsed = not request.args.get("all")
    try:
        page = min(max(int(request.args.get("page") or 1), 1), MAX_PAGES)
    except ValueError:
        page = 1
    args = {"q": typed, "sort": "date" if by_date else "", "all": "" if collapsed else "1"}
    databases = await searchable_databases(datasette)
    shards, rows, failed = [], [], []
    for db in databases:
        await datasette.ensure_permissions(request.actor, [("view-query", (db.name, "search")),
                                                           ("view-database", db.name), "view-instance"])
        if not typed:
            continue
        try:
            found = await shard_rows(datasette, db, args, page)
            total = await shard_total(db, typed)
        except (ValueError, QueryInterrupted, sqlite3.Error) as error:  # a failing shard is named; the others answer
            failed.append({"database": db.name, "error": str(error)})
            continue
        rows.extend(found)
        shards.append({"database": db.name, "total": total,
                       "url": datasette.urls.database(db.name) + "/search?" + urlencode({"q": typed})})
    ordered = merged(rows, by_date)
    shown = ordered[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    total = sum(shard["total"] for shard in shards)
    pages = min(max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), MAX_PAGES)

    def link(**changes) -> str:
        values = {**args, "page": page, **changes}
        return datasette.urls.path("/-/search") + "?" + urlencode({k: v for k, v in values.items() if v not in ("", 1)})

    for row in shown:
        row["article_url"] = datasette.urls.path(f"/-/article/{int(row['article_id'])}") + "?" + urlencode(
            {"db": row["database"]})
        if row.get("other_versions"):
            row["versions_url"] = datasette.urls.table(row["database"], "articles") + "?" + urlencode(
                {"story_id": row["story_id"], "_sort": "published"})
    context = {
        "q": typed, "rows": shown, "total": total, "shards": shards, "failed": failed, "page": page, "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1, "sort": "date" if by_date else "relevance", "collapsed": collapsed,
        "databases": [db.name for db in databases],
        "next_url": link(page=page + 1) if page < pages and len(shown) == PAGE_SIZE else None,
        "previous_url": link(page=page - 1) if page > 1 else None,
        "by_date_url": link(sort="date", page=1), "by_relevance_url": link(sort="", page=1),
        "all_versions_url": link(all="1", page=1), "one_per_story_url": link(all="", page=1),
        "mark": _search_plugin().mark,
    }
    if request.url_vars.get("format") == "json":
        keys = ("q", "total", "page", "pages", "sort", "collapsed", "shards", "failed", "rows")
        return Response.json({key: context[key] for key in keys})
    html = await datasette.render_template(TEMPLATE, context, request=request, view_name="arshif_shards_search")
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/search(\.(?P<format>json))?$", search_all)]
