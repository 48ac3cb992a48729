"""The safety net: Arshif never keeps a body that trafilatura alone would have found whole.

When pruning removed prose and Arshif's body is empty, too short or holds
fewer prose lines than pruning removed, trafilatura runs once more on the
unpruned page; its body is kept when it has over twice the words, with the
reason in record["fallback"] and the stat arshif/extraction/fallback counted.
The synthetic pages (tests/pages/synthetic, our own markup) are scored in
tests/test_quality_gate.py; here are the mechanics.
"""

from __future__ import annotations

import asyncio
import json
import pytest
from scrapy.utils.test import get_crawler

from bench.quality.corpus import SYNTHETIC_DIR, token_f1
from crawler.items import PageItem
from pipelines.extract import ExtractionPipeline
from pipelines.extraction import article, safety_net
from pipelines.extraction.records import make_record

PAGE = SYNTHETIC_DIR / "bootstrap_longdesc.html"
GOLD = json.loads(PAGE.with_suffix(".json").read_text(encoding="utf-8"))
REFERENCE = PAGE.with_suffix(".txt").read_text(encoding="utf-8")
# A per-source selector written for the site's old template, which now matches the body's container.
STALE_SELECTOR = ("div.article_details_body",)


def test_a_body_lost_to_pruning_comes_back_from_the_unpruned_page():
    record = make_record(PAGE.read_bytes(), GOLD["url"], prune_selectors=STALE_SELECTOR)
    assert record["fallback"] and "trafilatura on the unpruned page" in record["fallback"]
    assert record["is_article"], record["verdict"]
    assert token_f1(record["text"], REFERENCE) >= 0.98


def test_half_a_body_lost_to_a_selector_comes_back():
    """Under half the words: the selector took four of the six paragraphs."""
    paragraphs = REFERENCE.strip().split("\n")
    kept = "".join(f"<p>{p}</p>" for p in paragraphs[:2])
    lost = "".join(f"<p>{p}</p>" for p in paragraphs[2:])
    html = f'<html><body><h1>{GOLD["title"]}</h1><div class="story">{kept}<div class="more-text">{lost}</div></div></body></html>'
    without = make_record(html.encode(), GOLD["url"])
    record = make_record(html.encode(), GOLD["url"], prune_selectors=(".more-text",))
    assert record["fallback"] and record["text"] == without["text"]


def test_a_whole_body_never_pays_for_the_second_pass(monkeypatch):
    calls = []
    monkeypatch.setattr(article, "_unpruned_body", lambda *args: calls.append(args) or (None, None))
    for path in sorted(SYNTHETIC_DIR.glob("*.html")):
        gold = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        record = make_record(path.read_bytes(), gold["url"])
        assert record["fallback"] is None
    assert calls == []


def test_a_listing_page_is_not_turned_into_an_article():
    teasers = "".join(
        f'<li><a href="/n/{i}">عنوان الخبر رقم {i}</a> <span>ملخص طويل للخبر يتحدث عن تفاصيل كثيرة في المدينة '
        f"والمنطقة المحيطة بها منذ بداية الأسبوع الماضي وحتى اليوم الأحد</span></li>"
        for i in range(12)
    )
    html = f'<html><body><h1>أخبار</h1><div class="related-list"><ul>{teasers}</ul></div></body></html>'.encode()
    record = make_record(html, "https://news.example/section/")
    assert record["fallback"] is None


def test_short_lines_count_as_a_third_of_a_paragraph():
    lines = ["ن" * 120, "ن" * 60, "ن" * 60, "ن" * 120, "إعلان", "ن" * 120, "ن" * 20]
    assert safety_net.prose_lines(lines) == pytest.approx(3 + 2 / 3)
    assert safety_net.prose_run(lines) == pytest.approx(3 + 2 / 3)  # "إعلان" after a paragraph does not end the run
    assert safety_net.prose_run(["ن" * 120, "2023-06-29 01:33", "ن" * 120]) == 1  # a date line does
    assert safety_net.prose_run(["ن" * 60, "زائر", "ن" * 60, "زائر", "ن" * 60]) == pytest.approx(1 / 3)  # one-line comments


def test_suspicious_only_where_pruning_removed_prose():
    prose = ["ن" * 120] * 2
    assert not safety_net.suspicious(3, ["قصير"], 0, 40)  # nothing pruned: a short page stays short
    assert not safety_net.suspicious(3, ["قصير"], 1, 40)  # one text: a tag line, a notice
    assert safety_net.suspicious(3, ["قصير"], 2, 40)
    assert not safety_net.suspicious(300, prose, 2, 40)
    assert safety_net.suspicious(300, prose, 3, 40)


def test_a_short_page_does_not_take_its_footer_and_comments_for_a_body(monkeypatch):
    """A gallery: one caption, then tags, comments and an about-us footer that trafilatura would take."""
    comments = "".join(f'<div class="c"><b>زائر {i}</b><div>شكرا للشبكة على المتابعة المستمرة، بالتوفيق للجميع دائما</div></div>' for i in range(8))
    about = "شبكة الأخبار موقع إخباري مستقل يغطي الشؤون المحلية والعربية والدولية على مدار الساعة ويلتزم بمعايير الدقة. "
    html = (
        f'<html><body><h1>بالصور: جولة في المدينة القديمة</h1><div class="photo">صورة من الجولة - بالصور: جولة في المدينة القديمة</div>'
        f'<div class="tg">كلمات دليلية: {about}</div><div class="widget">{about}</div>'
        f'<div id="cm">{comments}</div><div class="ftr"><div>{about * 2}</div></div></body></html>'
    ).encode()
    calls = []
    unpruned = article._unpruned_body
    monkeypatch.setattr(article, "_unpruned_body", lambda *args: calls.append(unpruned(*args)) or calls[-1])
    record = make_record(html, "https://news.example/gallery/1")
    assert calls == [(None, None)]  # looked at, and refused: the widget's text and the footer are not one body
    assert record["fallback"] is None and not record["is_article"]


def test_the_crawl_counts_the_fallback():
    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    pipeline = ExtractionPipeline(crawler, min_words=40, workers=0, in_flight=1)
    item = PageItem(
        url=GOLD["url"], source="tv", body=PAGE.read_bytes(), content_type="text/html; charset=utf-8",
        fetched_at="2026-02-12T00:00:00Z", prune_selectors=STALE_SELECTOR,
    )
    asyncio.run(pipeline.process_item(item))
    assert crawler.stats.get_value("arshif/extraction/fallback") == 1
    assert item.record["fallback"]
    asyncio.run(pipeline.process_item(PageItem(url=GOLD["url"], source="tv", body=PAGE.read_bytes())))
    assert crawler.stats.get_value("arshif/extraction/fallback") == 1
