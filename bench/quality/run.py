"""Score Arshif's extraction beside plain trafilatura + langdetect on the quality pages.

    python bench/quality/run.py [--repeat N] [--json]

For every page of ../shared/pages and the five seed pages: date match, title
match, language, body token F1 against the reference text, forbidden-snippet
leaks; then totals and CPU ms/page for both (process time, the fastest of
--repeat runs, so other load on the machine hardly matters). "Plain" is what
a user would write: trafilatura.bare_extraction(html, url=url,
with_metadata=True) and langdetect.detect() on its text (seeded, so runs
repeat). The pages and their reference data: bench/quality/corpus.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import trafilatura
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException

from bench.quality.corpus import (
    QualityPage,
    all_pages,
    date_matches,
    leaks,
    same_title,
    token_f1,
)
from pipelines.extraction.records import make_record


def run_arshif(page: QualityPage) -> dict:
    record = make_record(page.html, page.url, prune_selectors=page.prune_selectors)
    return {key: record.get(key) for key in ("published", "title", "language", "text", "fallback", "author", "agency")}


def safety_net_cost(page: QualityPage) -> float:
    """CPU ms of the safety net's pass over the unpruned page (_unpruned_body), as if the page were suspicious."""
    from pipelines.extraction.article import _unpruned_body

    return timed(lambda p: _unpruned_body(p.html, None, p.url, 0, 0), page, 3)[1]


def run_plain(page: QualityPage) -> dict:
    DetectorFactory.seed = 0
    document = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    text = (document.text if document is not None else "") or ""
    try:
        language = detect(text) if text else None
    except LangDetectException:
        language = None
    return {
        "author": document.author if document is not None else None,
        "agency": None,
        "published": document.date if document is not None else None,
        "title": document.title if document is not None else None,
        "language": language,
        "text": text,
    }


def score(page: QualityPage, result: dict) -> dict:
    return {
        "date": None if not page.date else date_matches(result["published"], page.date),
        "title": None if not page.title else same_title(result["title"], page.title),
        "byline": None if not (page.author or page.agency) else (
            (result["author"], result["agency"]) == (page.author, page.agency)
        ),
        "language": result["language"] == page.language,
        "f1": None if page.reference is None else round(token_f1(result["text"], page.reference), 3),
        "missing": sum(1 for s in page.required if s not in (result["text"] or "")),
        "leaks": len(leaks(result["text"], page.forbidden, page.forbidden_lines)),
        "got": {k: result[k] for k in ("published", "title", "language")},
    }


def timed(function, page: QualityPage, repeat: int):
    result, best = None, float("inf")
    for _ in range(repeat):
        started = time.process_time()
        result = function(page)
        best = min(best, time.process_time() - started)
    return result, best * 1000


def _mark(value) -> str:
    return "–" if value is None else ("yes" if value else "NO")


def _f1(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| page | date | title | byline | lang (want) | body F1 | leaks | CPU ms | net ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ours, plain = row["arshif"], row["plain"]
        lines.append(
            f"| {row['page']} "
            f"| {_mark(ours['date'])} / {_mark(plain['date'])} "
            f"| {_mark(ours['title'])} / {_mark(plain['title'])} "
            f"| {_mark(ours['byline'])} / {_mark(plain['byline'])} "
            f"| {ours['got']['language']} / {plain['got']['language']} ({row['want_language']}) "
            f"| {_f1(ours['f1'])} / {_f1(plain['f1'])} "
            f"| {ours['leaks'] + ours['missing']} / {plain['leaks'] + plain['missing']} "
            f"| {row['arshif_ms']:.0f} / {row['plain_ms']:.0f} "
            f"| {'yes: ' if row['fallback'] else ''}{row['net_ms']:.0f} |"
        )
    for group in GROUPS:
        chosen = [row for row in rows if row["page"].startswith(group)]
        if chosen:
            lines.append(totals(chosen, group))
    lines.append(totals(rows))
    return "\n".join(lines)


GROUPS = (("arabic_pages/", "other_lang/"), "seeds/", "synthetic/")


def _count(rows, tool, key) -> str:
    checked = [r[tool][key] for r in rows if r[tool][key] is not None]
    return f"{sum(1 for v in checked if v)}/{len(checked)}"


def totals(rows: list[dict], group=None) -> str:
    cells = []
    for key in ("date", "title", "byline", "language"):
        cells.append(f"{_count(rows, 'arshif', key)} / {_count(rows, 'plain', key)}")
    f1s = {tool: [r[tool]["f1"] for r in rows if r[tool]["f1"] is not None] for tool in ("arshif", "plain")}
    mean = {tool: sum(v) / len(v) if v else 0.0 for tool, v in f1s.items()}
    least = {tool: min(v) if v else 0.0 for tool, v in f1s.items()}
    cells.append(f"{mean['arshif']:.3f} / {mean['plain']:.3f} (mean), {least['arshif']:.3f} / {least['plain']:.3f} (min)")
    leaked = {tool: sum(r[tool]["leaks"] + r[tool]["missing"] for r in rows) for tool in ("arshif", "plain")}
    cells.append(f"{leaked['arshif']} / {leaked['plain']}")
    ms = {tool: sum(r[f"{tool}_ms"] for r in rows) / len(rows) for tool in ("arshif", "plain")}
    cells.append(f"{ms['arshif']:.0f} / {ms['plain']:.0f} (mean)")
    net = sum(r["net_ms"] for r in rows) / len(rows)
    cells.append(f"{sum(1 for r in rows if r['fallback'])} fell back; {net:.0f} (mean)")
    name = "total" if group is None else " + ".join(group if isinstance(group, tuple) else (group,)).replace("/", "")
    return f"| **{name}** | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the fastest is reported (default 3)")
    parser.add_argument("--json", action="store_true", help="print the per-page results as JSON")
    args = parser.parse_args(argv)
    pages = all_pages()
    if not pages:
        print("no pages: ../shared/pages and ../shared/seeds are absent", file=sys.stderr)
        return 2
    for page in pages[:2]:  # warm up imports and caches before timing
        run_arshif(page), run_plain(page)
    rows = []
    for page in pages:
        ours, ours_ms = timed(run_arshif, page, args.repeat)
        plain, plain_ms = timed(run_plain, page, args.repeat)
        rows.append({
            "page": page.name,
            "want_language": page.language,
            "arshif": score(page, ours),
            "plain": score(page, plain),
            "arshif_ms": ours_ms,
            "plain_ms": plain_ms,
            "fallback": ours["fallback"],
            "net_ms": safety_net_cost(page),
        })
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print("Each cell: Arshif / plain trafilatura + langdetect. leaks = forbidden snippets in the body"
              " + required snippets missing; – = no reference for this page. net ms: CPU ms of the safety"
              " net's pass over the unpruned page, paid only where the page is suspicious (yes: it was, and"
              " its body was kept).\n")
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
