"""The trafilatura comparison shortcut changes nothing but speed.

On every page we have (the shared seed and quality-gate pages: Arabic, Persian,
Urdu; the demo site), trafilatura with the shortcut returns the same body text
as trafilatura without it, and so does the archive's record. The bound the
shortcut rests on, that readability's text is never longer than the page's, is
checked against readability itself on the same pages.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path

import lxml.html
import pytest
import trafilatura
import trafilatura.external
from lxml import etree

from bench.quality.corpus import SHARED_DIR
from crawler.demo.server import DEMO_SITE
from pipelines.extraction import trafilatura_shortcut as shortcut
from pipelines.extraction.article import _BODY_OPTIONS
from pipelines.extraction.records import make_record
from tests.seed_pages import load_seed_pages, render

SHARED = SHARED_DIR


_WORDS = "قال المتحدث باسم الوزارة إن الاجتماع ناقش خطة العام المقبل في العاصمة بحضور الوفود العربية والدولية".split()


def _article_only_page(number: int) -> bytes:
    """A page that is nothing but its article: the shortcut settles trafilatura's comparison on it."""
    paragraphs = "".join(
        "<p>" + " ".join(_WORDS[(number + line + word) % len(_WORDS)] for word in range(40)) + ".</p>" for line in range(4)
    )
    return (f"<html><head><title>خبر رقم {number}</title></head><body><article><h1>خبر رقم {number}</h1>"
            f"{paragraphs}</article></body></html>").encode("utf-8")


def _own_pages() -> list[tuple[str, bytes]]:
    """The demo site's articles (the comparison runs) and article-only pages (it is settled): no ../shared needed."""
    pages = [(path.name, path.read_bytes()) for path in sorted(DEMO_SITE.glob("articles/**/*.html"))]
    return pages + [(f"article-only-{number}", _article_only_page(number)) for number in range(12)]


def _shared_pages() -> list[tuple[str, bytes]]:
    pages = [(path.name, path.read_bytes()) for path in sorted((SHARED / "pages").glob("*/*.html"))]
    if (SHARED / "seeds").is_dir():
        pages += [(page.name, render(page).encode("utf-8")) for page in load_seed_pages(SHARED / "seeds")]
    return pages


OWN_PAGES = _own_pages()
SHARED_PAGES = _shared_pages()
PAGES = OWN_PAGES + SHARED_PAGES


@pytest.fixture
def trafilatura_own_comparison():
    """trafilatura's own comparison for the test's duration, the shortcut again after it."""
    shortcut.uninstall()
    yield
    assert shortcut.install()


def test_installed_on_the_trafilatura_the_project_pins():
    assert trafilatura.__version__.startswith(shortcut.VERIFIED_VERSIONS)
    assert shortcut.installed()


def test_every_own_page_gets_the_same_body_and_record(trafilatura_own_comparison):
    assert len(OWN_PAGES) == 29  # 17 demo pages, 12 article-only pages
    settled = _same_body_and_record(OWN_PAGES)
    # both branches ran: the shortcut skipped readability on some pages and let it run on others
    assert settled.count(True) >= 10 and settled.count(False) >= 5, (settled.count(True), settled.count(False))


def test_every_shared_page_gets_the_same_body_and_record(trafilatura_own_comparison):
    if not SHARED_PAGES:
        pytest.skip(f"{SHARED} is absent: the shared real pages are not here (they are never copied into the repo)")
    assert len(SHARED_PAGES) >= 15  # 10 real pages, 5 seed pages
    settled = _same_body_and_record(SHARED_PAGES)
    assert settled.count(True) >= 5 and settled.count(False) >= 5, (settled.count(True), settled.count(False))


def _same_body_and_record(pages) -> list[bool]:
    """Every page's body and record with the shortcut equal trafilatura's own; the shortcut's verdicts."""
    own = {name: (trafilatura.bare_extraction(html, options=copy(_BODY_OPTIONS)), _record(html)) for name, html in pages}
    settled = []
    original = shortcut.comparison_settled

    def counted(*args):
        settled.append(original(*args))
        return settled[-1]

    assert shortcut.install()
    shortcut.comparison_settled = counted
    try:
        for name, html in pages:
            document, record = trafilatura.bare_extraction(html, options=copy(_BODY_OPTIONS)), _record(html)
            assert (document.text if document else None) == (own[name][0].text if own[name][0] else None), name
            assert record == own[name][1], name
    finally:
        shortcut.comparison_settled = original
    return settled


def _record(html: bytes) -> dict | str:
    try:
        return make_record(html, "https://example.com/news/1", "text/html; charset=utf-8", with_fingerprints=True)
    except Exception as exc:  # the same failure both ways is the same result
        return repr(exc)


@pytest.mark.parametrize("name,html", PAGES, ids=[name for name, _ in PAGES])
def test_readability_text_is_within_the_bound(name, html):
    tree = lxml.html.document_fromstring(html)
    algo = trafilatura.external.try_readability(copy(tree))
    algo_text = trafilatura.utils.trim(etree.tostring(algo, method="text", encoding="utf-8").decode("utf-8"))
    assert len(algo_text) <= shortcut.page_text_bound(tree)


def test_bound_counts_video_iframes_readability_writes_into():
    html = b"<html><body><div><p>" + "نص الخبر هنا. ".encode() * 3 + b"</p><iframe src='https://www.youtube.com/embed/x'></iframe></div></body></html>"
    tree = lxml.html.document_fromstring(html)
    algo = trafilatura.external.try_readability(copy(tree))
    assert "VIDEO" in etree.tostring(algo, method="text", encoding=str)
    whole = " ".join(etree.tostring(tree, method="text", encoding=str).split())
    assert shortcut.page_text_bound(tree) == len(whole) + len("VIDEO")


def _conditions(body_html: str, page_text: str) -> bool:
    body = lxml.html.fragment_fromstring(body_html, create_parent="body")
    text = " ".join(body.text_content().split())
    page = lxml.html.document_fromstring(f"<html><body>{page_text}{body_html}</body></html>")
    return shortcut.comparison_settled(page, body, text, copy(_BODY_OPTIONS))


PARAGRAPH = "<p>" + "قال المتحدث باسم الوزارة إن الاجتماع ناقش خطة العام المقبل. " * 3 + "</p>"


@pytest.mark.parametrize(
    "body_html,page_text,settled",
    [
        (PARAGRAPH * 2, "", True),  # the page is the article: readability can't find twice as much
        (PARAGRAPH * 2, "<div>" + "قائمة روابط وعناوين أخرى " * 60 + "</div>", False),  # the page holds far more
        ("<p>خبر قصير</p>", "", False),  # under trafilatura's minimum: justext is consulted
        (PARAGRAPH * 2 + "<nav>روابط</nav>", "", False),  # an unclean result: justext is consulted
        ("<div>" + "نص بلا فقرات " * 40 + "</div>", "", False),  # no paragraph text: readability may be preferred
        (PARAGRAPH + "<table><tr><td>1</td></tr></table>" * 2, "", False),  # more tables than paragraphs
    ],
    ids=["article-page", "page-far-longer", "short", "unclean", "no-paragraphs", "tables"],
)
def test_settled_only_where_the_comparison_keeps_the_main_pass(body_html, page_text, settled):
    assert _conditions(body_html, page_text) is settled


def test_other_focus_runs_the_comparison():
    options = copy(_BODY_OPTIONS)
    options.focus = "recall"
    body = lxml.html.fragment_fromstring(PARAGRAPH * 2, create_parent="body")
    page = lxml.html.document_fromstring(f"<html><body>{PARAGRAPH * 2}</body></html>")
    assert not shortcut.comparison_settled(page, body, " ".join(body.text_content().split()), options)


@pytest.mark.parametrize("tag", shortcut.RAW_TEXT_TAGS)
def test_raw_text_elements_run_the_comparison(tag):
    """Escapes in raw-text elements come back longer from readability's XML round trip: with
    `<xmp>` holding 100 "&amp;", readability's text outgrew the page's and trafilatura took it."""
    paragraph = "هذا نص عربي طويل، يصف الحدث بالتفصيل، ويذكر الأماكن والأشخاص، ويقدم السياق اللازم للقارئ. " * 3
    paragraphs = "".join(f"<p>{paragraph}</p>" for _ in range(3))
    html = (f"<html><head><title>t</title></head><body><div class='article-body'>{paragraphs}"
            f"<div class='share'><{tag}>{'&amp;' * 100}</{tag}></div></div></body></html>")
    with_shortcut = trafilatura.bare_extraction(html, options=copy(_BODY_OPTIONS)).text
    shortcut.uninstall()
    try:
        own = trafilatura.bare_extraction(html, options=copy(_BODY_OPTIONS)).text
    finally:
        assert shortcut.install()
    assert with_shortcut == own
    tree = lxml.html.document_fromstring(html)
    body = lxml.html.fragment_fromstring(paragraphs, create_parent="body")
    assert not shortcut.comparison_settled(tree, body, " ".join(body.text_content().split()), copy(_BODY_OPTIONS))
