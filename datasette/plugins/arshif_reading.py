"""Datasette plugin: the reading view of one article, `/-/article/<id>`.

Headline, source, date, author, links to the original and to the archived copy,
the body as right-to-left paragraphs, the copies found of it, the other
articles of its story (near copies stored as articles of their own) and its
earlier versions (texts it had before an edit), each with what changed from it to
the next text (headline, and paragraphs removed and added: difflib over paragraphs).
Every scraped value goes through Jinja's autoescape; nothing is marked safe.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import NotFound, Response

from datasette import hookimpl

TEMPLATE = "arshif_article.html"
# The stored WARC record, sandboxed (datasette/plugins/arshif_archived.py)
ARCHIVED_COPY = "/-/archived/{}"
SQLITE_MAX_INTEGER = 2**63 - 1
DUPLICATE_COLUMNS = ("id", "url", "source", "title", "fetched_at", "similarity", "kind")
STORY_SQL = """select a.id, a.url, a.source, a.title, a.published, a.story_similarity, a.id = s.original_id as is_original
from articles a join stories s on s.id = a.story_id where a.story_id = ? order by a.published is null, a.published, a.id"""
VERSIONS_SQL = ("select fetched_at, superseded_at, title, word_count, content_hash, text from versions where article_id = ?"
                " order by id")


async def archive_database(datasette, request=None):
    """The database holding `articles`: `?db=NAME` (a shard of several served), else the one named
    "archive", else the first found."""
    wanted = request.args.get("db") if request is not None else None
    if wanted:
        db = datasette.databases.get(wanted)
        if db is None or wanted.startswith("_") or not await db.table_exists("articles"):
            raise NotFound(f"No archive named {wanted}")
        return db
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


def changes(before: dict, after: dict) -> dict:
    """What changed from one text of an article to the next: the headline (if it changed) and the
    paragraphs removed and added, in order (a paragraph edited shows as removed, then added)."""
    old, new = paragraphs(before.get("text")), paragraphs(after.get("text"))
    removed, added = [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += old[i1:i2]
        if tag in ("replace", "insert"):
            added += new[j1:j2]
    title = (before.get("title"), after.get("title")) if before.get("title") != after.get("title") else None
    return {"title": title, "removed": removed, "added": added}


def safe_href(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None (never a javascript: link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def db_suffix(request) -> str:
    """`?db=NAME` for links to another article or stored copy of the same shard."""
    wanted = request.args.get("db")
    return "?" + urlencode({"db": wanted}) if wanted else ""


async def article_page(datasette, request):
    db = await archive_database(datasette, request)
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
    story = []
    if article.get("story_id") is not None and "stories" in await db.view_names():
        story = [dict(r) for r in (await db.execute(STORY_SQL, [article["story_id"]])).rows]
    versions = []
    if await db.table_exists("versions"):
        versions = [dict(r) for r in (await db.execute(VERSIONS_SQL, [article_id])).rows]
        for version, following in zip(versions, [*versions[1:], article]):  # oldest first: each against the next text
            version["changes"] = changes(version, following)
    context = {
        "database": db.name,
        "article": article,
        "paragraphs": paragraphs(article.get("text")),
        "original_href": safe_href(article.get("url")),
        "archived_href": datasette.urls.path(ARCHIVED_COPY.format(article_id)) + db_suffix(request),
        "has_warc_column": "warc_file" in article,
        "warc_file": article.get("warc_file"),
        "duplicates": duplicates,
        "story": story if len(story) > 1 else [],
        "versions": versions,
        "article_path": lambda other: datasette.urls.path(f"/-/article/{int(other)}") + db_suffix(request),
        "row_url": datasette.urls.row(db.name, "articles", str(article_id)),
        "table_url": datasette.urls.table(db.name, "articles"),
    }
    html = await datasette.render_template(TEMPLATE, context, request=request, view_name="arshif_article")
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/article/(?P<id>\d{1,30})$", article_page)]
