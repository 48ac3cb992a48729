"""Datasette plugin: the index page's search box, articles-per-day chart, queries and exports.

`extra_template_vars` gives templates/index.html an `arshif` dict; the chart is
inline SVG built here (no JavaScript, nothing fetched), one stacked bar per day
and source over the last year of the archive, each bar linking to its articles.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from markupsafe import Markup, escape

from datasette import hookimpl

CHART_DAYS = 365
CHART_SOURCES = 9  # more sources than this are summed as "other"
OTHER = "أخرى · other"
PALETTE = ("#1b6ca8", "#e07b39", "#3a9d5d", "#c0392b", "#8e5ea2", "#8c6d31", "#d35fa0", "#5f7f8f", "#b5a31b", "#999999")
WIDTH, HEIGHT = 960, 240
EXPORT_ORDER = ("articles", "duplicates", "crawls", "pages")
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 12, 28

DAYS_SQL = """
select substr(published, 1, 10) as day, source, count(*) as articles
from articles
where published >= :start and published < :stop
group by day, source
"""


async def archive_database(datasette):
    """The database holding `articles`: the one named "archive" first, else the first found."""
    for db in sorted(datasette.databases.values(), key=lambda db: db.name != "archive"):
        if not db.name.startswith("_") and await db.table_exists("articles"):
            return db
    return None


def _parse_day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def chart_svg(rows, table_url: str = "", days: int = CHART_DAYS, today: date | None = None) -> Markup:
    """Stacked bars of articles per day per source as inline SVG; `rows` are (day, source, count).

    The x axis runs from `days` days before the latest day in `rows` (never later
    than tomorrow: a misparsed future date does not stretch it) to that day.
    """
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    cutoff = (today or datetime.now(timezone.utc).date()) + timedelta(days=1)
    for day_text, source, count in rows:
        day = _parse_day(day_text)
        if day is None or day > cutoff or not count:
            continue
        counts[day][source or "?"] += int(count)
        totals[source or "?"] += int(count)
    if not counts:
        return Markup('<p class="arshif-chart-empty">لا مقالات مؤرخة بعد · no dated articles yet</p>')
    end = max(counts)
    start = max(min(counts), end - timedelta(days=days - 1))
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    shown = ranked if len(ranked) <= CHART_SOURCES + 1 else ranked[:CHART_SOURCES]
    colour = {source: PALETTE[i % len(PALETTE)] for i, source in enumerate(shown)}
    if len(ranked) > len(shown):
        colour[OTHER] = PALETTE[-1]

    span = (end - start).days + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / span
    bar_w = max(step * 0.85, 1.0)
    peak = max(sum(by_source.values()) for day, by_source in counts.items() if start <= day <= end)
    scale = plot_h / peak

    title = f"عدد المقالات في كل يوم لكل مصدر · Articles per day per source, {start} – {end}"
    out = [
        f'<svg class="arshif-chart" role="img" aria-labelledby="arshif-chart-title" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="arshif-chart-title">{escape(title)}</title>',
    ]
    for value in sorted({0, peak // 2, peak}):  # y axis: 0, half, peak
        y = TOP + plot_h - value * scale
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="arshif-grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="arshif-axis">{value}</text>')
    day = start
    while day <= end:  # x axis: the first of each month, and the first day
        if day == start or day.day == 1:
            x = LEFT + (day - start).days * step
            out.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" class="arshif-axis">{day:%Y-%m}</text>')
        day += timedelta(days=1)
    for day in sorted(d for d in counts if start <= d <= end):
        x = LEFT + (day - start).days * step
        y = TOP + plot_h
        by_source: dict[str, int] = defaultdict(int)
        for source, count in counts[day].items():
            by_source[source if source in shown else OTHER] += count
        for source in [*shown, OTHER]:
            count = by_source.get(source)
            if not count:
                continue
            height = count * scale
            y -= height
            query = {"published__startswith": day.isoformat()}
            if source != OTHER:
                query["source"] = source
            href = f"{table_url}?{urlencode(query)}"
            out.append(
                f'<a href="{escape(href)}"><rect x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" '
                f'height="{height:.2f}" fill="{colour[source]}" data-day="{day}" data-source="{escape(source)}" '
                f'data-count="{count}"><title>{day} · {escape(source)}: {count}</title></rect></a>'
            )
    out.append("</svg>")
    totals[OTHER] = sum(totals[source] for source in ranked[len(shown):])
    legend = "".join(
        f'<li><span class="arshif-swatch" style="background:{colour[s]}"></span>{escape(s)} '
        f'<span class="arshif-legend-count">({totals[s]})</span></li>'
        for s in colour
    )
    return Markup("".join(out) + f'<ul class="arshif-legend">{legend}</ul>')


async def _chart(datasette, db, table_url: str) -> Markup:
    today = datetime.now(timezone.utc).date()
    latest = (await db.execute("select substr(max(published), 1, 10) from articles")).single_value()
    end = _parse_day(latest)
    if end is None:
        return chart_svg([], table_url)
    end = min(end, today + timedelta(days=1))
    start = end - timedelta(days=CHART_DAYS - 1)
    params = {"start": start.isoformat(), "stop": (end + timedelta(days=1)).isoformat()}
    key = (db.path, _file_state(db.path), params["start"], params["stop"])
    if key not in _DAY_COUNTS:
        if len(_DAY_COUNTS) >= 8:
            _DAY_COUNTS.clear()
        _DAY_COUNTS[key] = [tuple(row) for row in (await db.execute(DAYS_SQL, params)).rows]
    return chart_svg(_DAY_COUNTS[key], table_url, today=today)


# The chart's day counts read a year of the index (~330,000 entries at a million articles):
# kept per archive file state, so they are counted again only after a write.
_DAY_COUNTS: dict[tuple, list[tuple]] = {}


def _file_state(path) -> tuple:
    """Size and modification time of the database file and its WAL: they change with every commit."""
    state = []
    for name in (path, f"{path}-wal"):
        try:
            found = os.stat(name)
            state.append((found.st_size, found.st_mtime_ns))
        except (OSError, TypeError):
            state.append(None)
    return tuple(state)


async def home_context(datasette, request) -> dict:
    db = await archive_database(datasette)
    if db is None:
        return {}
    urls = datasette.urls
    queries = await datasette.get_canned_queries(db.name, request.actor if request else None)
    try:
        chart = await _chart(datasette, db, urls.table(db.name, "articles"))
    except Exception as exc:  # a timeout must not take the index page down
        chart = Markup('<p class="arshif-chart-empty">{}</p>').format(f"chart unavailable: {exc}")
    exports = []
    hidden = set(await db.hidden_table_names())
    for table in sorted(await db.table_names(), key=lambda t: (EXPORT_ORDER.index(t) if t in EXPORT_ORDER else 99, t)):
        if table not in hidden:
            base = urls.table(db.name, table)
            title = datasette.metadata("title", database=db.name, table=table, fallback=False)
            exports.append({"name": table, "title": title or table, "url": base})
    return {
        "arshif": {
            "database": db.name,
            "search_url": urls.database(db.name) + "/search" if "search" in queries else None,
            "chart": chart,
            "queries": [
                {"name": name, "title": query.get("title") or name, "url": urls.query(db.name, name)}
                for name, query in queries.items()
            ],
            "exports": exports,
        }
    }


@hookimpl
def extra_template_vars(template, datasette, request):
    if template != "index.html":
        return {}

    async def inner():
        return await home_context(datasette, request)

    return inner
