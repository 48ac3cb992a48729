"""Datasette plugin: the articles table's source and date facets from `article_counts` when nothing is filtered.

Datasette counts a facet by grouping every row of the page's query: on the
unfiltered articles table that is a million rows per facet per view. The
archive keeps `article_counts` (articles per source and publication day,
migration m090, exact through triggers), a few thousand rows, so the facets
of the whole table are a sum over it. Any filter (a source clicked, `?_q=`, a
date) falls back to datasette's own query over the filtered rows. The facet
types `counted` (a column: `source`) and `counted_date` (`published`) are
datasette's column and date facets with that shortcut; metadata.yaml uses them.
"""

from __future__ import annotations

from datasette.facets import ColumnFacet, DateFacet

from datasette import hookimpl

COUNTS_TABLE = "article_counts"
COUNTED_COLUMNS = {"source": "source", "published": "day"}  # articles column → article_counts column


class _CountsDatasette:
    """The datasette object as the facet sees it, with its one facet query replaced by `sql`."""

    def __init__(self, datasette, sql: str):
        self._datasette, self._sql = datasette, sql

    def __getattr__(self, name):
        return getattr(self._datasette, name)

    async def execute(self, database, _facet_sql, _params=None, **kwargs):
        return await self._datasette.execute(database, self._sql, {}, **kwargs)


async def _counts_sql(facet) -> str | None:
    """The facet's query over article_counts, or None when the page is filtered or the table is missing."""
    if facet.table != "articles" or facet.params or " where " in f" {facet.sql.lower()} ":
        return None
    configs = facet.get_configs()
    column = (configs[0]["config"].get("column") or configs[0]["config"]["simple"]) if len(configs) == 1 else None
    if column not in COUNTED_COLUMNS:
        return None
    if not await facet.ds.get_database(facet.database).table_exists(COUNTS_TABLE):
        return None
    counted = COUNTED_COLUMNS[column]
    return (f"select {counted} as value, sum(articles) as count from {COUNTS_TABLE} where {counted} != '' "
            f"group by {counted} order by count desc, value limit {facet.get_facet_size() + 1}")


class _Counted:
    async def facet_results(self):
        sql = await _counts_sql(self)
        if sql is None:
            return await super().facet_results()
        datasette, self.ds = self.ds, _CountsDatasette(self.ds, sql)
        try:
            return await super().facet_results()
        finally:
            self.ds = datasette


class CountedFacet(_Counted, ColumnFacet):
    """A column facet (`source`) read from article_counts on the unfiltered articles table."""

    type = "counted"


class CountedDateFacet(_Counted, DateFacet):
    """The date facet (`published`) read from article_counts on the unfiltered articles table."""

    type = "counted_date"


@hookimpl
def register_facet_classes():
    return [CountedFacet, CountedDateFacet]
