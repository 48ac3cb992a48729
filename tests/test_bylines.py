"""Bylines on div soup: the name in the dateline block, labelled names, agencies kept apart from authors."""

from __future__ import annotations

import pytest

from pipelines.archive.database import insert_rows, open_archive
from pipelines.extraction.article import extract_article
from pipelines.text.bylines import dateline_names, is_agency, labelled_name

BODY = "".join(f"<p>{'وقال المتحدث إن الاجتماع ناقش خطة العام المقبل في العاصمة بحضور الوفود العربية والدولية. ' * 3}</p>" for _ in range(3))
H1 = "الحكومة تقر خطة جديدة لدعم المزارعين"


def _page(under_headline: str = "", after_body: str = "", extra: str = "") -> bytes:
    return (
        f'<html><head><meta property="og:site_name" content="الشبكة"></head><body>'
        f'<div class="row"><div class="col-12"><h1>{H1}</h1>{under_headline}'
        f'<div class="LongDesc">{BODY}</div>{after_body}</div></div>{extra}</body></html>'
    ).encode()


@pytest.mark.parametrize("text, names", [
    ("مراسل الشبكة - 17 مارس 2018 16:00", ["مراسل الشبكة"]),
    ("هبة السيد | 7 مايو 2026 10:15 ص", ["هبة السيد"]),
    ("20 يونيو 2026 - محمد علي", ["محمد علي"]),
    ("كتب: سامي رياض - 3 أبريل 2024", ["سامي رياض"]),
    ("الرياضة - الأخبار - المحليات", []),  # no date: not a dateline
    ("17 مارس 2018 16:00", []),
    ("القاهرة - 17 مارس 2018", []),  # a city, not a person
    ("الأحد - 17 مارس 2018", []),
    ("آخر تحديث - 17 مارس 2018 16:00", []),
    ("نشر في | 17 مارس 2018", []),
    ("رويترز - 17 مارس 2018", ["رويترز"]),  # one word: an agency
])
def test_names_beside_the_date_in_a_dateline(text, names):
    assert dateline_names(text) == names


@pytest.mark.parametrize("text, name", [
    ("بقلم: أحمد يوسف", "أحمد يوسف"),
    ("كتبت: ليلى منصور", "ليلى منصور"),  # not "كتب" + "ت: ليلى منصور"
    ("كتب محمد علي", "محمد علي"),
    ("إعداد / فريق التحرير", "فريق التحرير"),
    ("تحرير: رنا فاضل", "رنا فاضل"),
    ("المصدر: رويترز", "رويترز"),
    ("كتبه الزوار في التعليقات", None),
])
def test_labelled_names(text, name):
    assert labelled_name(text) == name


@pytest.mark.parametrize("name", ["وكالات", "رويترز", "أ ف ب", "أ.ف.ب", "أ ش أ", "الأناضول", "وكالة الأناضول", "رويترز، أ ف ب", "كونا", "AFP"])
def test_agencies(name):
    assert is_agency(name)


@pytest.mark.parametrize("name", ["محمد علي", "مراسل الشبكة", "وكيل الوزارة", "أحمد بن وكال"])
def test_people_are_not_agencies(name):
    assert not is_agency(name)


def test_div_info_under_the_headline_gives_author_and_date():
    record = extract_article(_page('<div class="info">مراسل الشبكة - 17 مارس 2018 16:00</div>'), "https://tv.example/a")
    assert record["author"] == "مراسل الشبكة"
    assert record["published"].startswith("2018-03-17")


def test_the_site_name_in_a_dateline_is_not_the_author():
    record = extract_article(_page('<div class="info">17 مارس 2018 - الشبكة</div>'), "https://tv.example/a")
    assert record["author"] is None


def test_labelled_byline_at_the_body_end():
    record = extract_article(_page(after_body="<div>إعداد: نادية حسن</div>"), "https://tv.example/a")
    assert record["author"] == "نادية حسن"


def test_agency_is_the_source_not_the_author():
    record = extract_article(_page('<div class="info">رويترز - 17 مارس 2018</div>', after_body="<div>المصدر: وكالات</div>"), "https://tv.example/a")
    assert (record["author"], record["agency"]) == (None, "رويترز")
    record = extract_article(_page('<div class="info">كتب: سامي رياض - 17 مارس 2018</div>', after_body="<p>المصدر: أ ف ب</p>"), "https://tv.example/a")
    assert (record["author"], record["agency"]) == ("سامي رياض", "أ ف ب")


def test_bylines_in_comments_and_related_lists_are_not_the_author():
    extra = (
        '<div class="comments"><div>كتب: زائر الموقع</div></div>'
        '<div class="related-news"><span>بقلم: كاتب آخر</span></div>'
    )
    record = extract_article(_page(extra=extra), "https://tv.example/a")
    assert record["author"] is None


def test_the_archive_keeps_the_agency(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    assert "agency" in db["articles"].columns_dict
    insert_rows(db, [{"id": 1, "url": "https://tv.example/a", "title": "t", "text": "x", "agency": "رويترز"}], [])
    assert next(db.query("SELECT agency FROM articles"))["agency"] == "رويترز"
    db.close()
    assert "agency" in open_archive(tmp_path / "archive.db")["articles"].columns_dict  # applied once
