"""The quality pages and how to score an extraction on them (shared by the gate test and the bench).

Pages are read at run time from ../shared/pages (third-party pages: never copied
into this repository) and from the five shared seed texts wrapped in their
noise by tests/seed_pages.py. Reference data comes from each page's gold JSON
and .txt; what the gold lacks is described per page in tests/quality_floors.json:
CSS selectors whose text must never reach a body (derived from the page itself
at run time, so no third-party text is stored here), a selector for the
headline, and a date checked by hand where the gold has none.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from lxml import etree

from pipelines.text.normalize import normalize_arabic, tokens

PROJECT_DIR = Path(__file__).resolve().parents[2]
# ../shared beside the checkout; ARSHIF_SHARED_DIR points elsewhere (a git worktree one level deeper).
SHARED_DIR = Path(os.environ.get("ARSHIF_SHARED_DIR") or PROJECT_DIR.parent / "shared")
PAGES_DIR = SHARED_DIR / "pages"
SEEDS_DIR = SHARED_DIR / "seeds"
FLOORS_FILE = PROJECT_DIR / "tests" / "quality_floors.json"
# Our own markup of the failure classes seen on real pages (tests/pages/synthetic/README.md): in the repo.
SYNTHETIC_DIR = PROJECT_DIR / "tests" / "pages" / "synthetic"

# A forbidden segment is one text node of a boilerplate block. One with at least
# this many words must not occur anywhere in a body (only its start is compared,
# so a leak of part of a long notice still counts); a shorter one ("تعليقات",
# "الأكثر قراءة"), which may rightly occur inside a sentence, must not stand as
# a line of its own.
MIN_FORBIDDEN_WORDS = 3
FORBIDDEN_PREFIX_CHARS = 80


@dataclass
class QualityPage:
    name: str  # "arabic_pages/youm7_1", "seeds/001"
    html: bytes
    url: str
    language: str  # expected code: "ar", or the page's fa/ur
    date: str | None = None  # published must start with it
    date_note: str | None = None  # where a date the gold lacks comes from
    title: str | None = None
    reference: str | None = None  # reference body text
    required: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)  # must not occur in the body
    forbidden_lines: list[str] = field(default_factory=list)  # must not be a line of the body
    f1_floor: float | None = None
    author: str | None = None  # synthetic pages: the byline's name
    agency: str | None = None  # synthetic pages: the news agency credited
    prune_selectors: tuple[str, ...] = ()  # synthetic pages: the source's per-site selectors


def load_floors(path: Path = FLOORS_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def token_f1(candidate: str | None, reference: str) -> float:
    """Bag-of-tokens F1 over normalize_arabic() tokens."""
    got, want = Counter(tokens(candidate or "")), Counter(tokens(reference))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def same_title(got: str | None, want: str) -> bool:
    return bool(got) and normalize_arabic(got) == normalize_arabic(want)


def date_matches(got: str | None, want: str) -> bool:
    return bool(got) and got.startswith(want)


def contains(text: str | None, snippet: str) -> bool:
    return normalize_arabic(snippet)[:FORBIDDEN_PREFIX_CHARS] in normalize_arabic(text or "")


def leaks(text: str | None, forbidden: list[str], forbidden_lines: list[str] = ()) -> list[str]:
    """The forbidden snippets found in `text`, and the forbidden lines standing alone in it."""
    found = [snippet for snippet in forbidden if contains(text, snippet)]
    lines = {normalize_arabic(line) for line in (text or "").splitlines()}
    return found + [line for line in forbidden_lines if normalize_arabic(line) in lines]


def _parse(html: bytes):
    return lxml.html.document_fromstring(html.decode("utf-8", errors="replace"))


def _block_segments(element) -> list[str]:
    element = copy.deepcopy(element)
    etree.strip_elements(element, "script", "style", "noscript", etree.Comment, with_tail=False)
    segments = []
    for text in element.itertext():
        text = " ".join(text.split())
        if any(ch.isalpha() for ch in text):
            segments.append(text)
    return segments


def forbidden_from_selectors(html: bytes, selectors: list[str], keep: list[str]) -> dict[str, list[str]]:
    """Text segments of the blocks the selectors name, per selector; segments also in `keep` are left out."""
    tree = _parse(html)
    kept = [normalize_arabic(k) for k in keep if k]
    found: dict[str, list[str]] = {}
    for selector in selectors:
        segments = []
        for element in tree.cssselect(selector):
            for segment in _block_segments(element):
                norm = normalize_arabic(segment)
                if not any(norm in k for k in kept) and segment not in segments:
                    segments.append(segment)
        found[selector] = segments
    return found


def split_forbidden(segments: list[str]) -> tuple[list[str], list[str]]:
    """(snippets that must not occur, short ones that must not stand as a line)."""
    long = [s for s in segments if len(tokens(s)) >= MIN_FORBIDDEN_WORDS]
    short = [s for s in segments if len(tokens(s)) < MIN_FORBIDDEN_WORDS]
    return long, short


def title_from_selector(html: bytes, selector: str) -> str | None:
    matches = _parse(html).cssselect(selector)
    return " ".join(matches[0].text_content().split()) if matches else None


def shared_pages(floors: dict, pages_dir: Path = PAGES_DIR) -> list[QualityPage]:
    """Every page of ../shared/pages with its gold data and the floors file's additions."""
    pages = []
    for html_path in sorted(pages_dir.glob("*/*.html")):
        name = f"{html_path.parent.name}/{html_path.stem}"
        gold = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
        extra = floors["pages"].get(name, {})
        html = html_path.read_bytes()
        reference_path = html_path.with_suffix(".txt")
        reference = reference_path.read_text(encoding="utf-8") if reference_path.is_file() else None
        if html_path.parent.name == "arabic_pages":
            language = "ar"
        else:
            language = gold.get("language") or extra.get("language")
        title = gold.get("title")
        if not title and extra.get("title_selector"):
            title = title_from_selector(html, extra["title_selector"])
        keep = [reference or "", title or "", *gold.get("with", [])]
        by_selector = forbidden_from_selectors(html, extra.get("forbidden_selectors", []), keep)
        forbidden, forbidden_lines = split_forbidden([s for segments in by_selector.values() for s in segments])
        forbidden += [s for s in gold.get("without", []) if s not in forbidden]
        pages.append(QualityPage(
            name=name,
            html=html,
            url=gold["url"],
            language=language,
            date=gold.get("date") or extra.get("date"),
            date_note=None if gold.get("date") else extra.get("date_note"),
            title=title,
            reference=reference,
            required=list(gold.get("with", [])),
            forbidden=forbidden,
            forbidden_lines=forbidden_lines,
            f1_floor=extra.get("f1"),
        ))
    return pages


def seed_quality_pages(floors: dict, seeds_dir: Path = SEEDS_DIR) -> list[QualityPage]:
    """The five shared seed texts in their noise (tests/seed_pages.py), scored like the real pages."""
    from tests.seed_pages import load_seed_pages, render

    pages = []
    for seed in load_seed_pages(seeds_dir):
        name = f"seeds/{seed.name}"
        body = normalize_arabic(" ".join(seed.body))
        pages.append(QualityPage(
            name=name,
            html=render(seed).encode("utf-8"),
            url=f"https://news.example/{seed.name}.html",
            language="ar",
            date=seed.published,
            title=seed.title,
            reference="\n".join(seed.body),
            # a caption that quotes the body is not checked here (test_seed_pages checks it stands not alone)
            forbidden=[n for n in seed.noise if len(n.strip()) >= 4 and normalize_arabic(n) not in body],
            f1_floor=floors["pages"].get(name, {}).get("f1"),
        ))
    return pages


def synthetic_pages(floors: dict, synthetic_dir: Path = SYNTHETIC_DIR) -> list[QualityPage]:
    """The synthetic failure set: each page's .html, its gold .json and its expected body .txt."""
    pages = []
    for html_path in sorted(synthetic_dir.glob("*.html")):
        name = f"synthetic/{html_path.stem}"
        gold = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
        pages.append(QualityPage(
            name=name,
            html=html_path.read_bytes(),
            url=gold["url"],
            language=gold.get("language", "ar"),
            date=gold.get("date"),
            title=gold.get("title"),
            reference=html_path.with_suffix(".txt").read_text(encoding="utf-8"),
            f1_floor=floors["pages"].get(name, {}).get("f1"),
            author=gold.get("author"),
            agency=gold.get("agency"),
            prune_selectors=tuple(gold.get("prune_selectors", ())),
        ))
    return pages


def all_pages(floors: dict | None = None) -> list[QualityPage]:
    floors = floors if floors is not None else load_floors()
    pages = shared_pages(floors) if PAGES_DIR.is_dir() else []
    if SEEDS_DIR.is_dir():
        pages += seed_quality_pages(floors)
    return pages + synthetic_pages(floors)
