"""Datasette plugin: the database and index pages do not count the search index's shadow tables.

Datasette counts every table for those pages with `count(*)` and a short time
limit, but SQLite's count of a whole table is one uninterruptible step: on
`articles_fts_content` (every article's stemmed text) it takes seconds at a
million articles whatever the limit. FTS5 shadow tables (`<fts>_content`,
`_data`, `_docsize`, `_config`, `_idx`) are hidden anyway; they are reported
without a count (as a count that timed out is).
"""

from __future__ import annotations

import re
import sqlite3

from datasette import hookimpl
from datasette.database import QueryInterrupted

SHADOW_RE = re.compile(r".+_fts_(content|data|docsize|config|idx)$")


def counts_without_shadow_tables(db):
    async def table_counts(limit=10):
        counts = {}
        for table in await db.table_names():
            if SHADOW_RE.match(table):
                counts[table] = None
                continue
            try:
                result = await db.execute(f"select count(*) from [{table}]", custom_time_limit=limit)
                counts[table] = result.rows[0][0]
            except (QueryInterrupted, sqlite3.OperationalError, sqlite3.DatabaseError):
                counts[table] = None
        return counts

    return table_counts


@hookimpl
def startup(datasette):
    for name, db in datasette.databases.items():
        if not name.startswith("_") and db.is_mutable:  # immutable databases count once, at startup
            db.table_counts = counts_without_shadow_tables(db)
