"""Extraction-quality gate on real Arabic, Persian and Urdu pages and the seed pages.

Modeled on trafilatura's tests/eval_gate.py: stored pages with reference data,
floors pinned in tests/quality_floors.json, the test fails when quality drops.
The real pages are third-party: they are read from ../shared/pages at run time,
never copied here; the test skips when that folder is absent.

Per page: published starts with the reference date; the title equals the
reference title (normalized); the language is ar for arabic_pages and the
page's fa/ur (never ar) for other_lang; the body keeps the required snippets,
holds none of the forbidden ones (text of the comment, ticker and related
blocks named by CSS selectors in the floors file, read from the page), and its
token F1 against the reference text is at least the pinned floor.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import lxml.html
import pytest
import trafilatura

from bench.quality.corpus import (
    SHARED_DIR,
    SYNTHETIC_DIR,
    QualityPage,
    contains,
    date_matches,
    leaks,
    load_floors,
    same_title,
    seed_quality_pages,
    shared_pages,
    synthetic_pages,
    token_f1,
)
from pipelines.extraction.records import make_record

SHARED = SHARED_DIR
PAGES_DIR = SHARED / "pages"
SEEDS_DIR = SHARED / "seeds"
FLOORS_PATH = Path(__file__).with_name("quality_floors.json")
FLOORS = load_floors(FLOORS_PATH)
PAGE_NAMES = sorted(FLOORS["pages"])


@cache
def _pages() -> dict[str, QualityPage]:
    pages = []
    if PAGES_DIR.is_dir():
        pages += shared_pages(FLOORS, PAGES_DIR)
    if SEEDS_DIR.is_dir():
        pages += seed_quality_pages(FLOORS, SEEDS_DIR)
    pages += synthetic_pages(FLOORS)  # our own markup, in the repo: never skipped
    return {page.name: page for page in pages}


@cache
def _record(name: str) -> dict:
    page = _pages()[name]
    return make_record(page.html, page.url, prune_selectors=page.prune_selectors)


def _page(name: str) -> QualityPage:
    folder = SEEDS_DIR if name.startswith("seeds/") else SYNTHETIC_DIR if name.startswith("synthetic/") else PAGES_DIR
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared quality pages are not here (they are never copied into the repo)")
    page = _pages().get(name)
    if page is None:
        pytest.fail(f"{name} is in {FLOORS_PATH.name} but not in {folder}")
    return page


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_quality(name):
    page = _page(name)
    record = _record(name)
    problems = []
    if page.date and not date_matches(record["published"], page.date):
        problems.append(f"published {record['published']!r}, want {page.date} ({page.date_note or 'gold'})")
    if page.title and not same_title(record["title"], page.title):
        problems.append(f"title {record['title']!r}, want {page.title!r}")
    if record["language"] != page.language:
        problems.append(f"language {record['language']!r}, want {page.language!r}")
    if name.startswith("other_lang/") and record["language"] == "ar":
        problems.append("a Persian/Urdu page labelled Arabic")
    missing = [s for s in page.required if not contains(record["text"], s)]
    if missing:
        problems.append(f"required snippets missing: {missing}")
    leaked = leaks(record["text"], page.forbidden, page.forbidden_lines)
    if leaked:
        problems.append(f"{len(leaked)} forbidden snippets in the body: {[s[:60] for s in leaked[:5]]}")
    if page.reference is not None:
        f1 = token_f1(record["text"], page.reference)
        if page.f1_floor is None:
            problems.append(f"no f1 floor pinned for a page with reference text (measured {f1:.3f})")
        elif f1 < page.f1_floor:
            problems.append(f"body F1 {f1:.3f} < floor {page.f1_floor}")
    if not record["is_article"]:
        problems.append(f"not kept as an article: {record['verdict']}")
    if page.author and record["author"] != page.author:
        problems.append(f"author {record['author']!r}, want {page.author!r}")
    if page.agency and (record.get("agency"), record["author"]) != (page.agency, None):
        problems.append(f"agency {record.get('agency')!r} and author {record['author']!r}, want {page.agency!r} and None")
    assert not problems, f"{name}: " + "; ".join(problems)


# The shared pages with reference text: each has an f1 floor (test_page_quality insists).
REFERENCE_PAGES = [n for n in PAGE_NAMES if not n.startswith("seeds/") and "f1" in FLOORS["pages"][n]]


@pytest.mark.parametrize("name", REFERENCE_PAGES)
def test_body_f1_not_below_plain_trafilatura(name):
    """Where there is reference text, the body is at least as good as trafilatura called as a user would."""
    page = _page(name)
    plain = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    plain_f1 = token_f1(plain.text if plain is not None else "", page.reference)
    ours = token_f1(_record(name)["text"], page.reference)
    assert ours >= plain_f1, f"{name}: body F1 {ours:.3f} < plain trafilatura {plain_f1:.3f}"


def test_every_shared_page_has_floors_and_live_selectors():
    if not PAGES_DIR.is_dir():
        pytest.skip(f"{PAGES_DIR} is absent: the shared quality pages are not here")
    for html_path in sorted(PAGES_DIR.glob("*/*.html")):
        name = f"{html_path.parent.name}/{html_path.stem}"
        assert name in FLOORS["pages"], f"{name}: add it to {FLOORS_PATH.name}"
        tree = lxml.html.document_fromstring(html_path.read_bytes().decode("utf-8", errors="replace"))
        for selector in FLOORS["pages"][name].get("forbidden_selectors", []):
            assert tree.cssselect(selector), f"{name}: selector {selector!r} matches nothing"
    checked = [p for p in _pages().values() if p.forbidden or p.forbidden_lines]
    assert len(checked) >= 10, "most pages should have boilerplate text to check against"


def test_floors_file_holds_no_page_text():
    """Third-party text stays out of the repository: no Arabic-script letter in the floors file."""
    text = FLOORS_PATH.read_text(encoding="utf-8")
    assert not re.search("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]", text)
