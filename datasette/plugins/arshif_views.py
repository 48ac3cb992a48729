"""Datasette plugin: the `stories` view's page is served without datasette's row count.

The view groups every article by story, so counting its rows (or sorting them by size)
reads the whole archive: the SQL time limit at a million articles (5.6 s, bench/datasette).
Its page lists the stories in story order, which reads only the index entries of the
stories shown; the largest stories, what people want counted and sorted, are the
`largest_stories` canned query (m140's index). `?_nocount=0` asks for the count anyway.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

UNCOUNTED_VIEWS = {"stories"}  # views whose count reads every article


def uncounted_view(path: str) -> bool:
    """`/<database>/<view>` with an optional `.json` / `.csv`: a page of one of UNCOUNTED_VIEWS."""
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[1].split(".", 1)[0] in UNCOUNTED_VIEWS


def without_count(app):
    async def wrapped(scope, receive, send):
        if scope.get("type") == "http" and uncounted_view(scope.get("path", "")):
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if not any(name == "_nocount" for name, _ in args):
                scope = {**scope, "query_string": urlencode([*args, ("_nocount", "1")]).encode("latin-1")}
            elif ("_nocount", "0") in args:  # datasette counts when the argument is absent, not when it is 0
                scope = {**scope, "query_string": urlencode([a for a in args if a[0] != "_nocount"]).encode("latin-1")}
        await app(scope, receive, send)

    return wrapped


@hookimpl
def asgi_wrapper(datasette):
    return without_count
