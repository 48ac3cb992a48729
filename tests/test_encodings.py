"""Pages served over real HTTP in Arabic code pages, with missing or contradictory charsets.

A local SiteServer serves each variant with its own Content-Type header; the
page is fetched with urllib and extracted with the real header, and one real
crawl (the `arshif crawl` command, Scrapy engine) archives them all.
"""

from __future__ import annotations

import urllib.request

import pytest

from crawler.demo.server import SiteServer
from pipelines.text.encoding import decode_html
from pipelines.text.normalize import normalize_arabic
from pipelines.extraction.records import make_record
from tests.conftest import crawl

# Six short articles written for this test, in letters ISO-8859-6 can encode.
ARTICLES = {
    "cp1256": (
        "افتتاح مكتبة عامة جديدة في وسط المدينة",
        [
            "افتتحت البلدية صباح الاحد مكتبة عامة جديدة في وسط المدينة تضم اكثر من عشرين الف كتاب في مختلف المجالات العلمية والادبية.",
            "وقال رئيس البلدية ان المكتبة ستفتح ابوابها للزوار كل يوم من الساعة الثامنة صباحا حتى العاشرة مساء طوال ايام الاسبوع.",
            "واضاف ان قاعة خاصة بالاطفال خصصت في الطابق الاول مع برنامج اسبوعي للقراءة والرسم والمسرح بمشاركة متطوعين من الجامعة.",
        ],
    ),
    "iso-8859-6": (
        "موسم حصاد القمح يبدا في السهول الشمالية",
        [
            "بدا المزارعون في السهول الشمالية موسم حصاد القمح وسط توقعات بانتاج وفير بعد شتاء غزير الامطار هذا العام.",
            "وذكرت وزارة الزراعة ان المساحات المزروعة زادت بنسبة ملحوظة مقارنة بالموسم الماضي بفضل دعم البذور والاسمدة للفلاحين الصغار.",
            "ودعت الوزارة المزارعين الى تسليم محاصيلهم الى مراكز التخزين الحكومية التي فتحت ابوابها في القرى والبلدات القريبة.",
        ],
    ),
    "utf8-no-charset": (
        "فريق المدينة يفوز بكأس البطولة الوطنية للسباحة",
        [
            "فاز فريق المدينة بكأس البطولة الوطنية للسباحة بعد منافسة قوية استمرت ثلاثة أيام في المسبح الأولمبي بالعاصمة.",
            "وحطم السباحون الشباب رقمين قياسيين في سباقي مئتي متر حرة وأربعمئة متر متنوعة أمام جمهور كبير ملأ المدرجات.",
            "وأهدى المدرب الفوز إلى الأهالي الذين دعموا النادي طوال الموسم، مؤكدا أن الفريق يستعد الآن للبطولة العربية المقبلة.",
        ],
    ),
    "header-latin1-meta-cp1256": (
        "تجديد شبكة المياه في الاحياء القديمة",
        [
            "اعلنت شركة المياه بدء اعمال تجديد الشبكة في الاحياء القديمة التي عانت طويلا من الانقطاعات المتكررة خلال فصل الصيف.",
            "وتشمل الاعمال استبدال الانابيب التالفة وتركيب عدادات حديثة في المنازل والمحلات التجارية على مدى ستة اشهر.",
            "وطلبت الشركة من السكان تخزين كميات كافية من المياه في الايام التي يعلن عنها مسبقا عبر الاذاعة المحلية.",
        ],
    ),
    "header-cp1256-meta-iso": (
        "معرض للصناعات التقليدية يجذب الزوار",
        [
            "يجذب معرض الصناعات التقليدية المقام في ساحة القلعة الاف الزوار يوميا من داخل البلاد وخارجها منذ افتتاحه.",
            "ويعرض الحرفيون منتجات النسيج والفخار والنحاس والخشب المحفور التي توارثوها عن ابائهم واجدادهم عبر الاجيال.",
            "وقالت اللجنة المنظمة ان المعرض سيمدد اسبوعا اضافيا بسبب الاقبال الكبير وطلبات المشاركة من حرفيين جدد.",
        ],
    ),
    "cp1256-undeclared": (
        "حملة تشجير واسعة على ضفاف النهر",
        [
            "شارك مئات المتطوعين في حملة تشجير واسعة على ضفاف النهر زرعوا خلالها الاف الشتلات من الاشجار المحلية.",
            "وقالت جمعية حماية البيئة ان الحملة تهدف الى الحد من انجراف التربة وتوفير مساحات خضراء للعائلات في عطلة نهاية الاسبوع.",
            "واكد المنظمون ان فرقا من الطلاب ستتولى ري الشتلات ورعايتها خلال الاشهر الاولى حتى تقوى جذورها.",
        ],
    ),
}

# variant: (Content-Type header, <meta> charset or None, encoding of the bytes, encoding we must report)
VARIANTS = {
    "cp1256": ("text/html; charset=windows-1256", "windows-1256", "cp1256", "cp1256"),
    "iso-8859-6": ("text/html; charset=ISO-8859-6", None, "iso8859-6", "iso8859-6"),
    "utf8-no-charset": ("text/html", None, "utf-8", "utf-8"),
    "header-latin1-meta-cp1256": ("text/html; charset=ISO-8859-1", "windows-1256", "cp1256", "cp1256"),
    "header-cp1256-meta-iso": ("text/html; charset=windows-1256", "ISO-8859-6", "iso8859-6", "iso8859-6"),
    "cp1256-undeclared": ("text/html", None, "cp1256", "cp1256"),
}


def _html(variant: str) -> bytes:
    title, paragraphs = ARTICLES[variant]
    meta = VARIANTS[variant][1]
    charset = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = (
        f'<html lang="ar" dir="rtl"><head>{charset}<title>{title}</title>'
        f'<meta property="og:type" content="article"></head>'
        f'<body><div class="nav"><a href="/">الرئيسية</a></div><h1>{title}</h1><div class="story">{body}</div></body></html>'
    )
    return page.encode(VARIANTS[variant][2])


def _routes() -> dict:
    routes = {f"/enc/{variant}.html": (200, {"Content-Type": header}, _html(variant)) for variant, (header, *_) in VARIANTS.items()}
    links = "".join(f'<li><a href="/enc/{variant}.html">{variant}</a></li>' for variant in VARIANTS)
    routes["/"] = (200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body><ul>{links}</ul></body></html>".encode())
    routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
    return routes


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with SiteServer(tmp_path_factory.mktemp("empty-site"), extra_routes=_routes()) as server:
        yield server


def _check_text(variant: str, record_title: str, text: str) -> None:
    title, paragraphs = ARTICLES[variant]
    assert normalize_arabic(record_title) == normalize_arabic(title), (variant, record_title)
    for paragraph in paragraphs:
        assert normalize_arabic(paragraph) in normalize_arabic(text), (variant, text[:200])
    assert "\ufffd" not in text
    assert not any("\u00c0" <= ch <= "\u00ff" for ch in text), (variant, text[:80])  # no Latin-1 mojibake


def test_every_variant_really_is_in_its_code_page():
    for variant, (_, _, encoding, _) in VARIANTS.items():
        if encoding != "utf-8":
            with pytest.raises(UnicodeDecodeError):
                _html(variant).decode("utf-8")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fetched_page_is_correct_arabic(site, variant):
    with urllib.request.urlopen(f"{site.origin}/enc/{variant}.html", timeout=10) as response:
        body, content_type = response.read(), response.headers["Content-Type"]
    assert content_type == VARIANTS[variant][0]  # the header really went over the wire
    record = make_record(body, f"{site.origin}/enc/{variant}.html", content_type)
    _check_text(variant, record["title"], record["text"])
    assert record["encoding"] == VARIANTS[variant][3]
    assert record["language"] == "ar" and record["is_article"]


def test_latin1_page_stays_latin1():
    """A French page in Latin-1 is not forced into an Arabic code page."""
    body = "<html><head><title>Été</title></head><body><p>Le café est à côté de la gare, près du théâtre.</p></body></html>"
    text, encoding = decode_html(body.encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert "café est à côté" in text and encoding == "cp1252"


def test_crawl_archives_every_variant_as_correct_arabic(site, tmp_path):
    source = tmp_path / "encodings.toml"
    source.write_text(
        f"""name = "encodings"
site_url = "{site.origin}/"
start_urls = ["{site.origin}/"]
allowed_domains = ["127.0.0.1"]
article_allow = ['/enc/[^/]+\\.html$']
allow_loopback = true

[limits]
max_pages = 50
max_depth = 2
""",
        encoding="utf-8",
    )
    run = crawl(str(source), tmp_path / "archive.db", site.origin)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {row["url"].rsplit("/", 1)[-1][: -len(".html")]: row for row in run.db.query("SELECT * FROM articles")}
    assert sorted(rows) == sorted(VARIANTS), run.stdout
    for variant, row in rows.items():
        _check_text(variant, row["title"], row["text"])
        assert row["encoding"] == VARIANTS[variant][3], variant
        assert row["language"] == "ar"


@pytest.mark.parametrize("code_page", ["utf-8", "windows-1256"])
def test_an_xhtml_page_with_an_xml_declaration_is_extracted(code_page):
    """XHTML sites open with `<?xml … encoding=…?>`, which lxml refuses in a decoded string:
    such pages failed as "unparsable HTML" until session 5."""
    title, paragraphs = ARTICLES["cp1256"]
    page = (
        f'<?xml version="1.0" encoding="{code_page}"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="ar" dir="rtl"><head>'
        f"<title>{title}</title></head><body><article><h1>{title}</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article></body></html>"
    ).encode(code_page)
    record = make_record(page, "https://news.example/ar/xhtml.html", "application/xhtml+xml", source="test")
    assert record["title"] == title
    assert normalize_arabic(record["text"]) == normalize_arabic("\n".join(paragraphs))
