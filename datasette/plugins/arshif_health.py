"""Datasette plugin: `/-/health`, every source's health at a glance (and `/-/health.json`).

The rows are pipelines/archive/health.py's, read on datasette's own read-only
connection, the same as `arshif status` prints: last run, articles in the last
24 h / 7 days against the usual daily rate, failed and empty runs in a row, the
last warning, and a daily chart per source (inline SVG built here, nothing
fetched). `?hours=N` sets the staleness threshold (default 48),
`?database=NAME` picks one of several archives served.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from datasette import hookimpl

_PROJECT = str(Path(__file__).resolve().parents[2])  # this checkout's pipelines and seeds first
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

TEMPLATE = "arshif_health.html"
CHART_W, CHART_H, BAR_GAP = 210, 44, 1
STATE_LABELS = {  # Arabic, then English in its own bidi run
    state: Markup('{} <bdi lang="en">{}</bdi>').format(arabic, english) for state, (arabic, english) in {
        "failing": ("متعثّر", "failing"),
        "stale": ("متوقّف", "stale"),
        "low": ("أقل من المعتاد", "low"),
        "running": ("يعمل الآن", "running"),
        "ok": ("سليم", "ok"),
        "untracked": ("غير متابَع", "not tracked"),
        "never": ("لم يُجمع بعد", "never crawled"),
    }.items()
}
MAX_HOURS = 24 * 366


async def health_database(datasette, name: str | None):
    """The database asked for, else the one named "archive", else the first with articles and crawls."""
    candidates = [db for db in datasette.databases.values() if not db.name.startswith("_")]
    if name:
        candidates = [db for db in candidates if db.name == name]
    for db in sorted(candidates, key=lambda db: db.name != "archive"):
        if await db.table_exists("articles") and await db.table_exists("crawls"):
            return db
    return None


def day_chart(daily: list, usual: float | None, source: str) -> Markup:
    """Bars of articles per day (oldest on the left), a dashed line at the usual daily rate."""
    counts = [int(count) for _, count in daily]
    peak = max([*counts, usual or 0, 1])
    step = CHART_W / max(len(counts), 1)
    out = [(f'<svg class="arshif-health-chart" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" '
            f'role="img" aria-label="{escape(source)}: المقالات في كل يوم · articles per day" '
            'xmlns="http://www.w3.org/2000/svg">'),
           f'<rect class="arshif-health-chart-bg" x="0" y="0" width="{CHART_W}" height="{CHART_H}"/>']
    for i, ((day, _), count) in enumerate(zip(daily, counts, strict=True)):
        height = count / peak * (CHART_H - 2)
        out.append(f'<rect class="arshif-health-bar" x="{i * step:.1f}" y="{CHART_H - height:.1f}" '
                   f'width="{max(step - BAR_GAP, 1):.1f}" height="{height:.1f}" data-day="{day}" data-count="{count}">'
                   f'<title>{day}: {count}</title></rect>')
    if usual:
        y = CHART_H - usual / peak * (CHART_H - 2)
        out.append(f'<line class="arshif-health-usual" x1="0" x2="{CHART_W}" y1="{y:.1f}" y2="{y:.1f}">'
                   f'<title>المعتاد · usual: {usual:g}/day</title></line>')
    out.append("</svg>")
    return Markup("".join(out))


def _hours(request) -> float:
    from pipelines.archive.health import DEFAULT_STALE_HOURS

    try:
        hours = float(request.args.get("hours") or DEFAULT_STALE_HOURS)
    except ValueError:
        return DEFAULT_STALE_HOURS
    return hours if 0 < hours <= MAX_HOURS else DEFAULT_STALE_HOURS


async def health_page(datasette, request):
    from crawler.cli.status import seeded_source_names
    from pipelines.archive.health import collect

    db = await health_database(datasette, request.args.get("database"))
    if db is None:
        raise NotFound("No archive with articles and crawls tables")
    await datasette.ensure_permissions(
        request.actor,
        [("view-table", (db.name, "crawls")), ("view-table", (db.name, "articles")), ("view-database", db.name),
         "view-instance"],
    )
    hours = _hours(request)
    now = datetime.now(timezone.utc)
    seeded = seeded_source_names()
    rows = await db.execute_fn(lambda connection: collect(connection, seeded, now, hours))
    if request.url_vars.get("format") == ".json":
        return Response.json({"database": db.name, "generated_at": now.isoformat(timespec="seconds"), "stale_hours": hours,
                              "stale": [row.source for row in rows if row.stale],
                              "sources": [row.as_dict() for row in rows]})
    counts = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    table_url = datasette.urls.table(db.name, "articles")
    crawls_url = datasette.urls.table(db.name, "crawls")
    context = {
        "database": db.name,
        "hours": f"{hours:g}",
        "generated_at": now.isoformat(timespec="seconds"),
        "summary": [{"state": state, "label": STATE_LABELS[state], "count": counts[state]} for state in STATE_LABELS
                    if state in counts],
        "rows": [{**row.as_dict(), "label": STATE_LABELS[row.state], "chart": day_chart(row.daily, row.usual_per_day, row.source),
                  "articles_url": f"{table_url}?{urlencode({'source': row.source, '_sort_desc': 'fetched_at'})}",
                  "crawls_url": f"{crawls_url}?{urlencode({'source': row.source, '_sort_desc': 'id'})}",
                  "faults": ", ".join(f"{name} ×{count}" for name, count in row.last_faults.items())}
                 for row in rows],
        "json_url": datasette.urls.path("/-/health.json") + "?" + urlencode({"database": db.name, "hours": f"{hours:g}"}),
        "databases": [name for name in datasette.databases if not name.startswith("_")],
    }
    html = await datasette.render_template(TEMPLATE, context, request=request, view_name="arshif_health")
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/-/health(?P<format>\.json)?$", health_page)]
