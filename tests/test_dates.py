"""Datelines from every Arabic region, Hijri and Solar Hijri calendars, ISO metadata and relative times."""

from datetime import date, datetime, timedelta, timezone

import pytest

from pipelines.text.dates import hijri_to_gregorian, jalali_to_gregorian, parse_date_text, parse_iso_date

NOW = datetime(2024, 5, 13, 12, 30, 45)

TEXT_CASES = [
    # real datelines from archived pages
    ("الإثنين، 24 أغسطس 2020 09:23 ص", "2020-08-24T09:23:00"),
    ("الثلاثاء ١ / ١٢ / ٢٠٢٠", "2020-12-01"),
    ("11 شوال 1441هـ - 03 يونيو 2020", "2020-06-03"),
    ("May ٢٤, ٢٠١٧ ٠٦:٠٣ UTC", "2017-05-24T06:03:00+00:00"),
    ("نشر في دوزيم يوم 21 - 09 - 2017", "2017-09-21"),
    ("12 او 15 من اذار المقبل", None),
    ("24 اردیبهشت 1403 ساعت 09:05", "2024-05-13T09:05:00"),
    ("الإثنين، 13 مايو 2024 06:00 ص", "2024-05-13T06:00:00"),
    ("17 مارس/ آذار 2020", "2020-03-17"),
    ("٠٢:٠٠ الثلاثاء ١ / ١٢ / ٢٠٢٠", "2020-12-01T02:00:00"),
    ("۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹", "2020-05-10T18:59:00"),
    ("۱۳۹۹/۰۲/۲۱", "2020-05-10"),
    ("الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)", "2013-08-28"),  # update time not taken
    ("17:27 17.03.2020", "2020-03-17T17:27:00"),
    ("المـــؤســـس : الحــبـيـب شــيـخ روحه - الجمعة 8 فيفري 2019", "2019-02-08"),
    ("جريدة الصباح بتاريخ 2019/02/09", "2019-02-09"),
    # Levantine / Iraqi months
    ("1 كانون الثاني 2021", "2021-01-01"),
    ("15 شباط 2019", "2019-02-15"),
    ("3 آذار 2020", "2020-03-03"),
    ("3 اذار 2020", "2020-03-03"),
    ("9 نيسان 2018", "2018-04-09"),
    ("25 أيار 2022", "2022-05-25"),
    ("5 حزيران 2017", "2017-06-05"),
    ("14 تموز 2016", "2016-07-14"),
    ("2 آب 2020", "2020-08-02"),
    ("11 أيلول 2001", "2001-09-11"),
    ("6 تشرين الأول 2023", "2023-10-06"),
    ("6 تشرين أول 2023", "2023-10-06"),
    ("9 تشرين الثاني 1995", "1995-11-09"),
    ("31 كانون الأول 1999", "1999-12-31"),
    # Egyptian / Gulf months and their spellings
    ("7 يناير 2021", "2021-01-07"),
    ("14 فبراير 2020", "2020-02-14"),
    ("8 مارس 2022", "2022-03-08"),
    ("25 أبريل 2019", "2019-04-25"),
    ("25 ابريل 2019", "2019-04-25"),
    ("25 إبريل 2019", "2019-04-25"),
    ("1 مايو 2020", "2020-05-01"),
    ("30 يونيو 2013", "2013-06-30"),
    ("30 يونيه 2013", "2013-06-30"),
    ("23 يوليو 2012", "2012-07-23"),
    ("23 يوليه 2012", "2012-07-23"),
    ("15 أغسطس 2021", "2021-08-15"),
    ("15 اغسطس 2021", "2021-08-15"),
    ("11 سبتمبر 2011", "2011-09-11"),
    ("6 أكتوبر 2023", "2023-10-06"),
    ("4 نوفمبر 2020", "2020-11-04"),
    ("25 ديسمبر 2019", "2019-12-25"),
    ("٢٥ ديسمبر ٢٠١٩", "2019-12-25"),
    ("۲۵ دیسمبر ۲۰۱۹", "2019-12-25"),  # Persian yeh and digits
    ("6 أُكْتُوبَر 2023", "2023-10-06"),  # tashkeel
    ("6 أكتـــوبر 2023", "2023-10-06"),  # tatweel
    # Maghrebi months
    ("20 فبراير 2011", "2011-02-20"),
    ("9 ماي 2021", "2021-05-09"),
    ("30 يوليوز 2019", "2019-07-30"),
    ("14 غشت 2018", "2018-08-14"),
    ("21 شتنبر 2017", "2017-09-21"),
    ("6 نونبر 2015", "2015-11-06"),
    ("الأحد 7 دجنبر 2014", "2014-12-07"),
    # Tunisian / Algerian months
    ("14 جانفي 2011", "2011-01-14"),
    ("6 فيفري 2013", "2013-02-06"),
    ("9 أفريل 2021", "2021-04-09"),
    ("1 ماي 2020", "2020-05-01"),
    ("5 جوان 2019", "2019-06-05"),
    ("25 جويلية 2021", "2021-07-25"),
    ("25 جويليه 2021", "2021-07-25"),
    ("13 أوت 2020", "2020-08-13"),
    # double forms and filler words
    ("5 نيسان / أبريل 2019", "2019-04-05"),
    ("3 آذار (مارس) 2021", "2021-03-03"),
    ("10 حزيران - يونيو 2018", "2018-06-10"),
    ("1 أبريل (نيسان) 2019", "2019-04-01"),
    ("15 من آذار 2020", "2020-03-15"),
    ("الأربعاء 17 مارس 2020", "2020-03-17"),
    ("السبت، 1 يناير 2022", "2022-01-01"),
    ("24 أغسطس، 2020", "2020-08-24"),
    ("3 يونيو 2020م", "2020-06-03"),
    # Hijri
    ("11 شوال 1441هـ", "2020-06-03"),
    ("1 رمضان 1445 هـ", "2024-03-11"),
    ("10 ذو الحجة 1445", "2024-06-16"),
    ("10 ذي الحجة 1445هـ", "2024-06-16"),
    ("1 محرم 1446", "2024-07-07"),
    ("الجمعة 1 جمادى الأولى 1441 هـ", "2019-12-27"),
    ("1441/10/11 هـ", "2020-06-03"),
    ("11/10/1441هـ", "2020-06-03"),
    ("الأربعاء 11 شوال 1441 هـ الموافق 3 يونيو 2020 م", "2020-06-03"),
    ("3 يونيو 2020 - 11 شوال 1441", "2020-06-03"),
    ("30 شوال 1441", None),  # Shawwal 1441 has 29 days in Umm al-Qura
    # Solar Hijri
    ("1 فروردین 1403", "2024-03-20"),
    ("3 آذر 1402", "2023-11-24"),
    ("5 آذر 1402", "2023-11-26"),  # آذر (Persian) is not آذار (March)
    ("5 آذار 2024", "2024-03-05"),
    ("11 دی 1402", "2024-01-01"),
    ("۲۲ بهمن ۱۴۰۲", "2024-02-11"),
    ("30 اسفند 1403", "2025-03-20"),  # leap year
    ("30 اسفند 1402", None),  # not a leap year
    ("جمعه ۴ خرداد ۱۴۰۳", "2024-05-24"),
    ("1403/02/24", None),  # year < 1700, no Persian or Hijri signal: not guessed
    ("تاریخ انتشار: 1403/02/24", "2024-05-13"),  # Persian letters in the text
    # numeric forms
    ("21 - 09 - 2017", "2017-09-21"),
    ("1 / 12 / 2020", "2020-12-01"),
    ("2020/12/01", "2020-12-01"),
    ("15-03-2025 10:22", "2025-03-15T10:22:00"),
    ("24.05.2017", "2017-05-24"),
    ("12/25/2020", "2020-12-25"),  # month-first when the middle cannot be a month
    ("2020-12-01T02:00:00Z", "2020-12-01T02:00:00+00:00"),
    ("2017-05-24 06:03:29", "2017-05-24T06:03:29"),
    ("نشر بتاريخ 2021-03-14 الساعة 18:45", "2021-03-14T18:45:00"),
    # English and French
    ("May 24, 2017 06:03 UTC", "2017-05-24T06:03:00+00:00"),
    ("Wed, 24 May 2017 06:03:29 GMT", "2017-05-24T06:03:29+00:00"),
    ("Mon, 13 May 2024 05:35:00 +0300", "2024-05-13T05:35:00+03:00"),
    ("Sept. 3, 2019", "2019-09-03"),
    ("3rd March 2021", "2021-03-03"),
    ("Published on 12 January 2022 at 10:15 am", "2022-01-12T10:15:00"),
    ("14 juillet 2020", "2020-07-14"),
    ("1er décembre 2020", "2020-12-01"),
    # 12-hour times
    ("24 أغسطس 2020 09:23 م", "2020-08-24T21:23:00"),
    ("24 أغسطس 2020 12:15 ص", "2020-08-24T00:15:00"),
    ("24 أغسطس 2020 12:15 م", "2020-08-24T12:15:00"),
    ("12 أفريل 2021 - 08:30 مساءً", "2021-04-12T20:30:00"),
    ("3 يونيو 2020 - 7:05 مساء", "2020-06-03T19:05:00"),
    ("3 يونيو 2020 الساعة 10:30 صباحاً", "2020-06-03T10:30:00"),
    ("5 غشت 2018 على الساعة 10:00", "2018-08-05T10:00:00"),
    ("3 يونيو 2020 10:00 PM", "2020-06-03T22:00:00"),
    ("3 يونيو 2020 1:30 ظهرا", "2020-06-03T13:30:00"),
    # time zones named in the text
    ("آخر تحديث: 2019/10/5 الساعة 13:17 (مكة المكرمة)", "2019-10-05T13:17:00+03:00"),
    ("5/10/2019 13:17 (ت.غ)", "2019-10-05T13:17:00+00:00"),
    ("3 يونيو 2020 10:00 بتوقيت غرينتش", "2020-06-03T10:00:00+00:00"),
    ("3 يونيو 2020 10:00 GMT+3", "2020-06-03T10:00:00+03:00"),
    # a time that belongs to something else is not attached
    ("3 يونيو 2020 | آخر تحديث 10:00", "2020-06-03"),
    # rejected
    ("30 فبراير 2020", None),
    ("29 فبراير 2021", None),
    ("29 فبراير 2020", "2020-02-29"),
    ("2020-13-01", None),
    ("31/04/2020", None),
    ("1 يناير 1989", None),
    ("15 مايو", None),
    ("يونيو 2020", None),
    ("5 مايو 1441", None),  # Gregorian month, Hijri-range year
    ("11 شوال 2020", None),  # Hijri month, Gregorian year
    ("5 آذر 2024", None),  # Persian month, Gregorian year
    ("الأهلي يفوز 2 - 1 على الزمالك", None),
    ("كأس العالم 2022", None),
    ("09:23 ص", None),
    ("", None),
    ("   ", None),
    ("lorem ipsum", None),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_parse_date_text(text, expected):
    assert parse_date_text(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("1 يناير 2025", NOW, "2025-01-01"),  # now.year + 1 is allowed
        ("1 يناير 2026", NOW, None),
        ("1 يناير 2026", None, "2026-01-01"),  # without now: up to 2100
        ("1 يناير 2101", None, None),
    ],
)
def test_year_bounds(text, now, expected):
    assert parse_date_text(text, now=now) == expected


RELATIVE_CASES = [
    ("منذ ساعتين", "2024-05-13T10:30:00"),
    ("منذ 3 ساعات", "2024-05-13T09:30:00"),
    ("منذ ٣ ساعات", "2024-05-13T09:30:00"),
    ("منذ ثلاث ساعات", "2024-05-13T09:30:00"),
    ("منذ ساعة", "2024-05-13T11:30:00"),
    ("منذ دقيقة", "2024-05-13T12:29:00"),
    ("منذ 5 دقائق", "2024-05-13T12:25:00"),
    ("منذ دقيقتين", "2024-05-13T12:28:00"),
    ("قبل يومين", "2024-05-11"),
    ("منذ 3 أيام", "2024-05-10"),
    ("منذ أسبوع", "2024-05-06"),
    ("أمس", "2024-05-12"),
    ("نشر مساء أمس", "2024-05-12"),
    ("أول أمس", "2024-05-11"),
    ("أول من أمس", "2024-05-11"),
    ("3 hours ago", "2024-05-13T09:30:00"),
    ("an hour ago", "2024-05-13T11:30:00"),
    ("yesterday", "2024-05-12"),
    ("۲ ساعت پیش", "2024-05-13T10:30:00"),
    ("دیروز", "2024-05-12"),
    ("منذ ساعات", None),  # no number: vague
    ("منذ أيام", None),
]


@pytest.mark.parametrize(("text", "expected"), RELATIVE_CASES)
def test_relative_dates(text, expected):
    assert parse_date_text(text, now=NOW) == expected


@pytest.mark.parametrize("text", [text for text, _ in RELATIVE_CASES])
def test_relative_dates_need_now(text):
    assert parse_date_text(text) is None


def test_relative_date_keeps_offset_of_aware_now():
    now = datetime(2024, 5, 13, 12, 30, 45, tzinfo=timezone(timedelta(hours=3)))
    assert parse_date_text("منذ ساعتين", now=now) == "2024-05-13T10:30:00+03:00"


def test_absolute_date_wins_over_relative():
    assert parse_date_text("منذ ساعتين - 3 يونيو 2020", now=NOW) == "2020-06-03"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-03-17T17:27", "2020-03-17T17:27:00"),
        ("2020-06-03T03:01+0400", "2020-06-03T03:01:00+04:00"),
        ("2020-12-01 02:00:00", "2020-12-01T02:00:00"),
        ("2024-03-08T10:40:21+0500", "2024-03-08T10:40:21+05:00"),
        ("2020-12-01T02:00:00Z", "2020-12-01T02:00:00+00:00"),
        ("2025-03-14", "2025-03-14"),
        ("2020-03-17T17:27:00.000+03:00", "2020-03-17T17:27:00+03:00"),
        ("2024-05-13T05:35:00z", "2024-05-13T05:35:00+00:00"),
        ("2020-06-03 10:00:00", "2020-06-03T10:00:00"),
        ("2020-06-03T10:00:00-04:00", "2020-06-03T10:00:00-04:00"),
        ("2020-06-03T10:00:00+03", "2020-06-03T10:00:00+03:00"),
        ("  2025-03-14  ", "2025-03-14"),
        # not ISO: falls back to the text parser
        ("۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹", "2020-05-10T18:59:00"),
        ("الإثنين، 24 أغسطس 2020 09:23 ص", "2020-08-24T09:23:00"),
        ("Wed, 24 May 2017 06:03:29 GMT", "2017-05-24T06:03:29+00:00"),
        # invalid
        ("2020-02-30", None),
        ("2020-06-03T25:00:00", None),
        ("1970-01-01T00:00:00Z", None),
        ("2020-06-03T10:00:00+25:00", None),
        ("", None),
        ("not a date", None),
    ],
)
def test_parse_iso_date(value, expected):
    assert parse_iso_date(value) == expected


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1399, 1, 1), date(2020, 3, 20)),
        ((1399, 2, 21), date(2020, 5, 10)),
        ((1403, 1, 1), date(2024, 3, 20)),
        ((1403, 2, 24), date(2024, 5, 13)),
        ((1403, 12, 30), date(2025, 3, 20)),
        ((1404, 1, 1), date(2025, 3, 21)),
        ((1369, 1, 1), date(1990, 3, 21)),
        ((1375, 12, 30), date(1997, 3, 20)),
        ((1478, 12, 29), date(2100, 3, 19)),
    ],
)
def test_jalali_to_gregorian(jalali, gregorian):
    assert jalali_to_gregorian(*jalali) == gregorian


@pytest.mark.parametrize("jalali", [(1402, 12, 30), (1403, 7, 31), (1403, 13, 1), (1403, 0, 1), (1403, 1, 0)])
def test_jalali_rejects_impossible_dates(jalali):
    with pytest.raises(ValueError):
        jalali_to_gregorian(*jalali)


@pytest.mark.parametrize(
    ("hijri", "gregorian"),
    [((1441, 10, 11), date(2020, 6, 3)), ((1445, 9, 1), date(2024, 3, 11)), ((1446, 1, 1), date(2024, 7, 7))],
)
def test_hijri_to_gregorian(hijri, gregorian):
    assert hijri_to_gregorian(*hijri) == gregorian


@pytest.mark.parametrize("hijri", [(1441, 10, 30), (1441, 13, 1), (1342, 1, 1), (1501, 1, 1)])
def test_hijri_rejects_impossible_dates(hijri):
    with pytest.raises(ValueError):
        hijri_to_gregorian(*hijri)


# Persian pages (issue 22): Jalali dates in metadata keys Persian CMSs use, and above the headline.
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import lxml.html  # noqa: E402

from pipelines.extraction.article import extract_article  # noqa: E402
from pipelines.text.metadata import read_metadata  # noqa: E402

PERSIAN_PAGE = Path(__file__).parent / "pages" / "synthetic" / "persian_jalali.html"


@pytest.mark.parametrize("meta", [
    '<meta name="DC.Date" content="1399/01/12">',
    '<meta name="dc.date.created" content="1399-01-12T10:20:00+04:30">',
    '<meta property="nastooh:publishDate" content="۱۳۹۹/۰۱/۱۲ - ۱۰:۲۰">',
    '<meta property="article:published" content="2020-03-31T10:20:00+04:30">',
    '<meta property="og:published_time" content="2020-03-31">',
    '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
    '{"@type": "WebSite", "name": "نمونه"}, {"@type": "WebPage", "datePublished": "2020-03-31T10:20:00+04:30"}]}</script>',
])
def test_persian_cms_date_keys(meta):
    html = PERSIAN_PAGE.read_text(encoding="utf-8").replace('<meta name="DC.Date" content="1399/01/12">', meta)
    record = extract_article(html.encode(), "https://news-fa.example/fa/news/88421")
    assert record["published"].startswith("2020-03-31"), (meta, record["published"])


def test_persian_date_above_the_headline_inside_the_article():
    html = PERSIAN_PAGE.read_text(encoding="utf-8").replace('<meta name="DC.Date" content="1399/01/12">', "")
    record = extract_article(html.encode(), "https://news-fa.example/fa/news/88421")
    assert record["published"] == "2020-03-31T10:20:00"  # not the header's "today" (۲۹ اردیبهشت ۱۴۰۵)


def test_jalali_metadata_year_is_solar_hijri_only_on_persian_pages():
    assert parse_iso_date("1399/01/12", persian=True) == "2020-03-31"
    assert parse_iso_date("1399-01-12T10:20:00+04:30", persian=True) == "2020-03-31T10:20:00+04:30"
    assert parse_iso_date("1399/01/12") is None  # an Arabic page: lunar or solar? never guessed
    html = b'<html lang="fa"><head><meta name="DC.Date" content="1399/01/12"></head><body></body></html>'
    tree = lxml.html.document_fromstring(html)
    assert read_metadata(tree).published == "1399/01/12"


@pytest.mark.parametrize("text, expected", [
    ("اتوار 8 مارچ 2024", "2024-03-08"),  # Urdu
    ("ہفتہ 9 مارچ 2024 10:40", "2024-03-09T10:40:00"),
    ("12 جون 2023", "2023-06-12"),
    ("۵ ژوئن ۲۰۲۰", "2020-06-05"),  # Persian spelling of a Gregorian month
])
def test_urdu_and_persian_gregorian_month_names(text, expected):
    assert parse_date_text(text) == expected


def test_arshif_extract_dates_a_persian_page():
    """The crawl drops the page as not Arabic; `arshif extract` still prints its right date."""
    from tests.conftest import run_arshif

    result = run_arshif("extract", str(PERSIAN_PAGE), "--url", "https://news-fa.example/fa/news/88421")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout)
    assert (record["published"][:10], record["language"]) == ("2020-03-31", "fa")
