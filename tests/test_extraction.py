"""extract_article on small hand-written pages: whose date, which title, what body."""

from __future__ import annotations

import copy
import json

import lxml.html
import pytest
import trafilatura

from pipelines.extraction import article as extraction
from pipelines.text import metadata
from pipelines.extraction.article import extract_article
from pipelines.text.normalize import normalize_arabic

URL = "https://news.example/world/story-17.html"
PARAGRAPHS = [
    "قال وزير الري في مؤتمر صحفي عقده صباح اليوم إن الحكومة بدأت تنفيذ خطة جديدة لتحسين إدارة المياه الجوفية في المحافظات الجنوبية خلال السنوات الخمس المقبلة.",
    "وأضاف الوزير أن الخطة تشمل حفر آبار مراقبة جديدة وتحديث الخرائط المائية وتدريب المهندسين على أساليب القياس الحديثة بالتعاون مع الجامعات المحلية.",
    "وأشار إلى أن المرحلة الأولى من الدراسة انتهت بنجاح وأن نتائجها ستعرض على مجلس الوزراء في اجتماعه المقبل قبل إقرار الموازنة اللازمة للمرحلة الثانية.",
]
BODY = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
TITLE = "الحكومة تبدأ خطة جديدة لإدارة المياه الجوفية"


def page(body: str, head: str = "", title: str = TITLE) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body>{body}</body></html>"
    ).encode()


def extract(html: bytes, url: str = URL) -> dict:
    return extract_article(html, url)


# -- dates -------------------------------------------------------------------------


def test_dateline_under_the_headline_is_the_date():
    html = page(f"<h1>{TITLE}</h1><div class='meta'>الإثنين، 24 أغسطس 2020 09:23 ص</div><div>{BODY}</div>")
    assert extract(html)["published"] == "2020-08-24T09:23:00"


def test_todays_date_in_the_header_is_never_the_date():
    html = page(
        "<div class='top'><span>الجمعة 19 فبراير 2021</span></div>"
        f"<h1>{TITLE}</h1><div>{BODY}</div>"
    )
    assert extract(html)["published"] is None


def test_related_stories_and_comments_dates_are_never_the_date():
    html = page(
        f"<h1>{TITLE}</h1><div>{BODY}</div>"
        "<div><h3>أخبار أخرى</h3><ul>"
        "<li><a href='/a/1'>خبر سابق عن الأمطار</a> <span>3 مارس 2019</span></li>"
        "<li><a href='/a/2'>خبر آخر عن السدود</a> <span>4 مارس 2019</span></li></ul></div>"
        "<div class='comments'><div class='comment'><b>أحمد</b> <span>5 مارس 2019 10:00</span>"
        "<p>تعليق القارئ على الخبر</p></div></div>"
    )
    assert extract(html)["published"] is None


def test_teaser_dates_after_a_one_paragraph_story_are_not_its_date():
    html = page(
        f"<h1>{TITLE}</h1><p>{PARAGRAPHS[0]}</p>"
        "<ul><li><a href='/a/1'>خبر سابق عن الأمطار</a><span>3 مارس 2019</span></li>"
        "<li><a href='/a/2'>خبر آخر عن السدود</a><span>4 مارس 2019</span></li></ul>"
    )
    assert extract(html)["published"] is None


def test_a_date_far_below_the_headline_is_not_a_dateline():
    long_body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS * 4)
    html = page(f"<h1>{TITLE}</h1><div>{long_body}</div><div>بتاريخ 7 يناير 2019</div>")
    assert extract(html)["published"] is None


def test_structured_metadata_wins_and_skips_the_dateline_search(monkeypatch):
    calls = []
    original = extraction._dateline
    monkeypatch.setattr(extraction, "_dateline", lambda *a: calls.append(a) or original(*a))
    ld = json.dumps({"@type": "NewsArticle", "datePublished": "2021-03-04T10:00:00+02:00", "author": {"name": "سارة علي"}})
    html = page(
        f"<h1>{TITLE}</h1><div>الإثنين، 24 أغسطس 2020</div><div>{BODY}</div>",
        head=f'<script type="application/ld+json">{ld}</script>',
    )
    record = extract(html)
    assert record["published"] == "2021-03-04T10:00:00+02:00"
    assert record["author"] == "سارة علي"
    assert calls == []


def test_microdata_date_of_the_article_not_of_a_comment():
    html = page(
        f"<h1>{TITLE}</h1><div>{BODY}</div>"
        "<div id='comments'><time itemprop='datePublished' datetime='2019-05-05'>5 مايو</time></div>"
        "<span property='dc:date' content='2020-02-08T00:00:00+01:00'>الجمعة 8 فيفري 2020</span>"
    )
    assert extract(html)["published"].startswith("2020-02-08")


def test_microdata_date_inside_a_teaser_link_is_skipped():
    html = page(
        f"<h1>{TITLE}</h1><div>{BODY}</div>"
        "<a href='/other'><time itemprop='datePublished' datetime='2018-01-01'>1 يناير</time> خبر آخر</a>"
    )
    assert extract(html)["published"] is None


def test_solar_hijri_metadata_date():
    html = page(f"<h1>{TITLE}</h1>{BODY}", head='<meta property="article:published_time" content="۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹">')
    assert extract(html)["published"].startswith("2020-05-10")


# -- titles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page_title",
    [f"{TITLE} - اليوم السابع", f"{TITLE} | البيان", f"البيان | {TITLE}", f"{TITLE} - Sputnik Arabic"],
)
def test_site_name_is_cut_from_the_title(page_title):
    html = page(f"<div>{BODY}</div>", title=page_title)
    assert extract(html)["title"] == TITLE


def test_og_title_with_site_suffix_is_cut_using_og_site_name():
    head = f'<meta property="og:title" content="{TITLE} - اليوم السابع"><meta property="og:site_name" content="اليوم السابع">'
    html = page(f"<h1>{TITLE}</h1><h1>اليوم السابع</h1><div>{BODY}</div>", head=head)
    assert extract(html)["title"] == TITLE


def test_latin_seo_title_loses_to_an_arabic_script_headline():
    head = '<meta property="og:title" content="Hukumat Ka Naya Mansuba - Special Article">'
    html = page(f"<h1>{TITLE}</h1><div>{BODY}</div>", head=head, title="Hukumat Ka Naya Mansuba")
    assert extract(html)["title"] == TITLE


def test_latin_title_stays_when_the_headline_is_latin_too():
    head = '<meta property="og:title" content="Water plan starts">'
    html = page(f"<h1>CNN</h1><div>{BODY}</div>", head=head, title="Water plan starts")
    assert extract(html)["title"] == "Water plan starts"


# -- body --------------------------------------------------------------------------


def test_lead_beside_article_body_opens_the_text():
    lead = "أعلنت وزارة الري اليوم بدء خطة جديدة لإدارة المياه الجوفية تمتد خمس سنوات."
    html = page(
        f"<h1>{TITLE}</h1><div class='article'><div itemprop='description' class='article__lead'><p>{lead}</p></div>"
        f"<div itemprop='articleBody'>{BODY}</div></div>"
    )
    text = extract(html)["text"]
    assert text.startswith(lead)
    assert normalize_arabic(PARAGRAPHS[-1]) in normalize_arabic(text)


def test_comment_notice_above_the_comment_widget_is_dropped():
    notice = "نرحب بتعليقاتكم على أن تلتزم بإرشادات النشر، والآراء الواردة أدناه لا تعبر عن رأي الموقع."
    html = page(
        f"<h1>{TITLE}</h1><div class='story'>{BODY}<div style='padding:10px'><p>{notice}</p></div>"
        "<div class='fb-comments' data-href='x'></div></div>"
    )
    text = extract(html)["text"]
    assert "لا تعبر عن رأي الموقع" not in text
    assert normalize_arabic(PARAGRAPHS[-1]) in normalize_arabic(text)


def test_last_paragraph_mentioning_comment_is_kept():
    last = "ولم يتسن الحصول على تعليق من الوزارة على هذه المعلومات حتى الآن."
    html = page(f"<h1>{TITLE}</h1><div class='story'>{BODY}<p>{last}</p><div id='comments'></div></div>")
    assert last in extract(html)["text"]


def test_injected_overlay_app_is_not_body():
    html = page(
        f"<h1>{TITLE}</h1><div>{BODY}</div>"
        "<cloudflare-app><flashcard-title>WhatsApp</flashcard-title><p>انضموا إلى قناتنا على واتساب الآن</p></cloudflare-app>"
    )
    assert "واتساب" not in extract(html)["text"]


def test_div_soup_page_without_lead_element_uses_fallback_extractors():
    # one long div of text with <br> and inline ads: trafilatura's main pass alone finds little
    text = "<br><br>".join(PARAGRAPHS * 3)
    html = page(f"<h1>{TITLE}</h1><div class='detail'><div class='ad'><span>إعلان</span></div><div>{text}</div></div>")
    record = extract(html)
    assert record["is_article"], record["verdict"]
    assert normalize_arabic(PARAGRAPHS[1]) in normalize_arabic(record["text"])


# -- verdict ---------------------------------------------------------------------------


def test_short_paragraphs_only_is_a_listing_unless_declared_an_article():
    teasers = "".join(f"<p>{' '.join(PARAGRAPHS[0].split()[:20])} {i}</p>" for i in range(6))
    record = extract(page(f"<h1>{TITLE}</h1><div class='list'>{teasers}</div>"))
    assert record["word_count"] >= 40
    assert (record["is_article"], record["verdict"]) == (False, "no paragraph of 25 words: a listing")
    record = extract(page(f"<h1>{TITLE}</h1><div class='list'>{teasers}</div>", head='<meta property="og:type" content="article">'))
    assert (record["is_article"], record["verdict"]) == (True, "article")


# -- the faster paths give what the plain ones gave ----------------------------------

META_HEAD = (
    '<meta property="og:title" content="  ">'  # blank: the next one counts
    '<meta name="og:title" content="عنوان من name">'
    '<meta property="og:title" content="عنوان ثان">'
    '<meta itemprop="og:title" content="عنوان من itemprop">'
    '<meta name="twitter:title" content="عنوان تويتر">'
    '<meta name="description">'  # no content attribute
    '<meta name="description" content="وصف  الخبر">'
    '<meta property="og:description" name="description" content="">'
    '<meta itemprop="author" content="كاتب">'
    '<meta name="Author" content="not the same name">'
    '<meta property="article:published_time" content="2024-05-13T06:00:00+03:00">'
    '<meta name="og:url" property="og:site_name" content="موقع">'
)


def test_meta_index_reads_what_one_xpath_per_name_read():
    """Names compared case-insensitively (issue 22: "DC.Date" is "dc.date"), as the XPath below lower-cases them."""
    upper, lower = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"

    def by_xpath(tree, *names):
        for name in names:
            for attr in ("property", "name", "itemprop"):
                for value in tree.xpath(f'//meta[translate(normalize-space(@{attr}), "{upper}", "{lower}")="{name.lower()}"]/@content'):
                    value = metadata.clean_space(value)
                    if value:
                        return value
        return None

    tree, _ = extraction.parse_html(page(BODY, head=META_HEAD))
    index = metadata._meta_index(tree)
    for names in [
        ("og:title", "twitter:title"),
        ("twitter:title",),
        ("og:description", "description", "twitter:description"),
        ("author", "article:author"),
        ("Author",),
        ("article:published_time", "datePublished"),
        ("og:url",),
        ("og:site_name", "application-name"),
        ("missing",),
    ]:
        assert metadata._meta(index, *names) == by_xpath(tree, *names), names


def test_element_date_selectors_select_what_the_plain_xpath_did():
    plain = (
        "//*[@itemprop='datePublished'][@content or @datetime]",
        (
            "//*[not(self::meta)][@property='dc:date' or @property='dc:created' or @property='dcterms:created'"
            " or @property='schema:datePublished' or @property='article:published_time'][@content]"
        ),
    )
    dated = "".join(
        f"<span {attr}='{value}' {extra}>x</span><meta {attr}='{value}' {extra}>"
        for attr, value in [("itemprop", "datePublished"), ("itemprop", "datePublishedX"), ("property", "dc:date"),
                            ("property", "dc:created"), ("property", "dcterms:created"), ("property", "schema:datePublished"),
                            ("property", "article:published_time"), ("property", "og:title"), ("name", "dc:date")]
        for extra in ("content='2024-01-02'", "datetime='2024-01-03'", "")
    )
    tree, _ = extraction.parse_html(page(f"<h1>{TITLE}</h1><div>{dated}<time itemprop='datePublished' datetime='1'>t</time></div>"))
    for compiled, xpath in zip(metadata._ELEMENT_DATE_XPATHS, plain):
        assert compiled(tree) == tree.xpath(xpath)
        assert compiled(tree)


@pytest.mark.parametrize(
    "html",
    [
        page(f"<h1>{TITLE}</h1>{BODY}"),
        page(f"<h1>{TITLE}</h1><div class='detail'><div>{'<br><br>'.join(PARAGRAPHS * 3)}</div></div>"),
        page("<p>قصير</p>"),
        page(f"<h1>{TITLE}</h1><p>ﺍﻟﺴﻼﻡ عَلَيْكُمْ ٢٠٢٤ كـــتـــاب، مدرسة؛ إلى «أحمد» پیک_x</p>{BODY}<p>{BODY}</p>"),
    ],
)
def test_extract_with_tokens_gives_the_records_text_tokens(html):
    from pipelines.text.normalize import tokens

    record, words = extraction.extract_with_tokens(html, URL)
    assert record == extract_article(html, URL)
    assert words == tokens(record["text"])


FORM_PAGE = page(
    f"<h1>{TITLE}</h1><article>{BODY}<label for='q'>بحث</label><input id='q' value='x'>"
    "<select><option>1</option></select><textarea>نص</textarea></article>"
    "<form><fieldset><legend>اشترك</legend><input type='email'></fieldset></form>"
)


@pytest.mark.parametrize("html", [page(f"<h1>{TITLE}</h1>{BODY}"), FORM_PAGE])
def test_html_parser_gives_the_record_lxml_html_gave(html, monkeypatch):
    """The parser with a C class lookup: same tree, same record as lxml.html's own parser."""
    fast = extract(html)
    tree, _ = extraction.parse_html(html)
    assert all(isinstance(element, lxml.html.HtmlElement) for element in tree.iter() if isinstance(element.tag, str))
    monkeypatch.setattr(extraction, "_HTML_PARSER", lxml.html.html_parser)
    monkeypatch.setattr(extraction, "_UTF8_PARSER", lxml.html.HTMLParser(encoding="utf-8"))
    assert extract(html) == fast


@pytest.mark.parametrize(
    "html",
    [
        page(f"<h1>{TITLE}</h1>{BODY}"),
        FORM_PAGE,
        page(f"<p>{PARAGRAPHS[0]} 😀 &amp; &#x1F600; é \u200f</p>", head="<meta charset='windows-1256'>"),
        b"\xef\xbb\xbf" + page(f"<p>{PARAGRAPHS[0]}</p>"),  # after a BOM: parsed from the text
        page(f"<p>{PARAGRAPHS[0]}\x01</p>"),  # a control byte: parsed from the text without it
    ],
)
def test_utf8_body_parses_as_its_decoded_text(html):
    """A UTF-8 body goes to libxml2 as bytes: the same tree as from the text decode_html makes of it."""
    text, _ = extraction.decode_html(html)
    expected = lxml.html.document_fromstring(extraction._CONTROL_RE.sub("", text), parser=extraction._HTML_PARSER)
    tree, encoding = extraction.parse_html(html)
    assert encoding == "utf-8"
    assert lxml.html.tostring(tree, encoding=str) == lxml.html.tostring(expected, encoding=str)


@pytest.mark.parametrize(
    "html",
    [
        page(f"<h1>{TITLE}</h1>{BODY}"),
        FORM_PAGE,
        page(f"<h1>{TITLE}</h1><div class='detail'><div>{'<br><br>'.join(PARAGRAPHS * 3)}</div></div>"),
        page("<p>قصير</p>"),
    ],
)
def test_body_text_is_bare_extraction_with_the_same_options(html):
    tree, _ = extraction.parse_html(html)
    expected = trafilatura.bare_extraction(
        copy.deepcopy(tree), url=URL, with_metadata=False, include_comments=False, include_tables=False,
        include_images=False, include_links=False, deduplicate=False, fast=False,
    )
    assert extraction._body_text(tree, URL) == ((expected.text if expected is not None else "") or "")
