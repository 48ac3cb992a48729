"""Datasette plugin: the reading view of one article, `/-/article/<id>`.

Headline, source, date, author, links to the original and to the archived copy,
the body as right-to-left paragraphs and the copies found of it. Every scraped
value goes through Jinja's autoescape; nothing is marked safe.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

TEMPLATE = "arshif_article.html"
# The stored WARC record, sandboxed (datasette/plugins/arshif_archived.py)
ARCHIVED_COPY = "/-/archived/{}"
SQLITE_MAX_INTEGER = 2**63 - 1
DUPLICATE_COLUMNS = ("id", "url", "source", "title", "fetched_at", "similarity", "kind")


async def archive_database(datasette):
    """The database holding `articles`: the one named "archive" first, else the first found."""
    databases = sorted(datasette.databases.values(), key=lambda db: db.name != "archive")
    for db in databases:
        if db.name.startswith("_"):
            continue
        if await db.table_exists("articles"):
            return db
    return None


def paragraphs(text: str | None) -> list[str]:
    """Body paragraphs: the stored text split on newlines, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def safe_href(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None (never a javascript: link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


async def article_page(datasette, request):
    db = await archive_database(datasette)
    if db is None:
        raise NotFound("No database with an articles table")
    await datasette.ensure_permissions(
        request.actor,
        [("view-table", (db.name, "articles")), ("view-database", db.name), "view-instance"],
    )
    article_id = int(request.url_vars["id"])
    if article_id > SQLITE_MAX_INTEGER:  # no such row; SQLite cannot even take the number
        raise NotFound(f"No article {article_id}")
    result = await db.execute("select * from articles where id = ?", [article_id])
    row = result.first()
    if row is None:
        raise NotFound(f"No article {article_id}")
    article = dict(row)
    duplicates = []
    if await db.table_exists("duplicates"):
        columns = set(await db.table_columns("duplicates"))
        wanted = ", ".join(c for c in DUPLICATE_COLUMNS if c in columns)
        rows = await db.execute(
            f"select {wanted} from duplicates where duplicate_of = ? order by id", [article_id]
        )
        duplicates = [dict(r, href=safe_href(r["url"])) for r in rows.rows]
    context = {
        "database": db.name,
        "article": article,
        "paragraphs": paragraphs(article.get("text")),
        "original_href": safe_href(article.get("url")),
        "archived_href": datasette.urls.path(ARCHIVED_COPY.format(article_id)),
        "has_warc_column": "warc_file" in article,
        "warc_file": article.get("warc_file"),
        "duplicates": duplicates,
        "row_url": datasette.urls.row(db.name, "articles", str(article_id)),
        "table_url": datasette.urls.table(db.name, "articles"),
    }
    html = await datasette.render_template(TEMPLATE, context, request=request, view_name="arshif_article")
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/article/(?P<id>\d{1,30})$", article_page)]
