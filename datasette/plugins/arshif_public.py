"""Datasette plugin: what a public archive does not publish.

- Datasette's introspection pages (`/-/databases`, `/-/versions`, `/-/threads`,
  `/-/plugins`, `/-/settings`, `/-/config`, `/-/actor`, `/-/permissions` and the
  other debug pages) answer 404: they show the archive's absolute path, the
  Python and SQLite versions and the running threads. `/-/metadata` stays (titles
  and descriptions, no file paths). Run `datasette` itself to debug.
- `arshif serve --public` (environment ARSHIF_PUBLIC=1): no arbitrary SQL.
  Datasette's `execute-sql` permission is denied, so `?sql=` and `_where=` are
  refused; the canned queries (search among them), table pages, facets, `?_q=`
  search and the reading view keep working.
"""

from __future__ import annotations

import os
import re

from datasette import hookimpl

HIDDEN = re.compile(
    r"^/-/(databases|versions|threads|plugins|settings|config|actor|permissions|allow-debug|messages|patterns"
    r"|auth-token|logout)(\.json)?/?$"
)
PUBLIC_ENV = "ARSHIF_PUBLIC"


def is_public() -> bool:
    return os.environ.get(PUBLIC_ENV, "") not in ("", "0", "false", "no")


def hide_debug_pages(app):
    async def app_without_debug_pages(scope, receive, send):
        if scope.get("type") == "http" and HIDDEN.match(scope.get("path", "")):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [[b"content-type", b"text/plain; charset=utf-8"]]})
            await send({"type": "http.response.body", "body": b"Not found"})
            return
        await app(scope, receive, send)

    return app_without_debug_pages


@hookimpl
def asgi_wrapper(datasette):
    return hide_debug_pages


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    if action == "execute-sql" and is_public():
        return False
    return None
