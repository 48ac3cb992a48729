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
    record = make_record(page.html, page.url)
    return {"published": record["published"], "title": record["title"], "language": record["language"], "text": record["text"]}


def run_plain(page: QualityPage) -> dict:
    DetectorFactory.seed = 0
    document = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    text = (document.text if document is not None else "") or ""
    try:
        language = detect(text) if text else None
    except LangDetectException:
        language = None
    return {
        "published": document.date if document is not None else None,
        "title": document.title if document is not None else None,
        "language": language,
        "text": text,
    }


def score(page: QualityPage, result: dict) -> dict:
    return {
        "date": None if not page.date else date_matches(result["published"], page.date),
        "title": None if not page.title else same_title(result["title"], page.title),
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
        "| page | date | title | lang (want) | body F1 | leaks | CPU ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ours, plain = row["arshif"], row["plain"]
        lines.append(
            f"| {row['page']} "
            f"| {_mark(ours['date'])} / {_mark(plain['date'])} "
            f"| {_mark(ours['title'])} / {_mark(plain['title'])} "
            f"| {ours['got']['language']} / {plain['got']['language']} ({row['want_language']}) "
            f"| {_f1(ours['f1'])} / {_f1(plain['f1'])} "
            f"| {ours['leaks'] + ours['missing']} / {plain['leaks'] + plain['missing']} "
            f"| {row['arshif_ms']:.0f} / {row['plain_ms']:.0f} |"
        )
    lines.append(totals(rows))
    return "\n".join(lines)


def _count(rows, tool, key) -> str:
    checked = [r[tool][key] for r in rows if r[tool][key] is not None]
    return f"{sum(1 for v in checked if v)}/{len(checked)}"


def totals(rows: list[dict]) -> str:
    cells = []
    for key in ("date", "title", "language"):
        cells.append(f"{_count(rows, 'arshif', key)} / {_count(rows, 'plain', key)}")
    f1s = {tool: [r[tool]["f1"] for r in rows if r[tool]["f1"] is not None] for tool in ("arshif", "plain")}
    mean = {tool: sum(v) / len(v) if v else 0.0 for tool, v in f1s.items()}
    cells.append(f"{mean['arshif']:.3f} / {mean['plain']:.3f} (mean)")
    leaked = {tool: sum(r[tool]["leaks"] + r[tool]["missing"] for r in rows) for tool in ("arshif", "plain")}
    cells.append(f"{leaked['arshif']} / {leaked['plain']}")
    ms = {tool: sum(r[f"{tool}_ms"] for r in rows) / len(rows) for tool in ("arshif", "plain")}
    cells.append(f"{ms['arshif']:.0f} / {ms['plain']:.0f} (mean)")
    return "| **total** | " + " | ".join(cells) + " |"


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
        })
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print("Each cell: Arshif / plain trafilatura + langdetect. leaks = forbidden snippets in the body"
              " + required snippets missing; – = no reference for this page.\n")
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
