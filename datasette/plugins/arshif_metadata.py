"""Datasette plugin: the `archive` block of metadata.yaml applies to every database served, whatever its name.

`arshif serve data/shard-1.db other.db` serves databases named `shard-1` and
`other`; metadata.yaml describes one called `archive`. `get_metadata` hands
each served database (not datasette's own `_internal`/`_memory`) a copy of
that block: titles, table descriptions, facets and canned queries, including
the search. A database with a block of its own in the metadata keeps it.
"""

from __future__ import annotations

from datasette import hookimpl

TEMPLATE_DATABASE = "archive"


@hookimpl
def get_metadata(datasette, key, database, table):
    local = getattr(datasette, "_metadata_local", None) or {}
    configured = local.get("databases") or {}
    block = configured.get(TEMPLATE_DATABASE)
    if not block:
        return {}
    # names with a block of their own are left out: datasette would merge that block into this shared one
    names = [name for name in datasette.databases if not name.startswith("_") and name not in configured]
    return {"databases": {name: block for name in names}} if names else {}
