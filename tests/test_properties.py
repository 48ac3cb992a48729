"""Property-based tests of the plain text functions on hostile, Arabic-heavy input.

Every property runs twice: a small deterministic budget in the default run
(CI stays fast and reproducible) and a large one under ``-m slow``. Known bugs
are pinned as strict xfail cases at the end of the file, each with its minimal
input; the properties steer around them until they are fixed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import string
import unicodedata
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pipelines.text.dates import MAX_YEAR, MIN_YEAR, parse_date_text, parse_iso_date
from pipelines.text.encoding import decode_html
from pipelines.text.language import ARABIC_SCRIPT_RE, arabic_script_ratio, detect_language
from pipelines.text.normalize import (
    INVISIBLE_RE,
    TASHKEEL_RE,
    light_stem,
    normalize_arabic,
    strip_tashkeel,
    to_ascii_digits,
    tokens,
)
from pipelines.text.search_text import fts_query, search_text
from pipelines.text.titles import BIDI_RE, clean_title
from pipelines.similarity.urls import FOLDS, canonical_url, is_tracking_param

# Deterministic and database-less by default, so every run tries the same inputs.
# ARSHIF_HYPOTHESIS_PROFILE=explore gives fresh random inputs (and remembers failures).
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("ARSHIF_HYPOTHESIS_PROFILE", "ci"))


def budgets(fast: int, slow: int) -> pytest.MarkDecorator:
    """Parametrize a test over two hypothesis budgets: `fast` by default, `slow` under -m slow."""
    return pytest.mark.parametrize(
        "budget",
        [
            pytest.param(settings(max_examples=fast), id=f"{fast}"),
            pytest.param(settings(max_examples=slow), id=f"{slow}", marks=pytest.mark.slow),
        ],
    )


# --- Arabic-heavy text -------------------------------------------------------

ARABIC_LETTERS = "ءابتثجحخدذرزسشصضطظعغفقكلمنهوي"
ALEF_HAMZA = "اأإآٱٲٳءؤئ\u0653\u0654\u0655"  # every alef/hamza seat, and the decomposed marks
TA_MARBUTA_MAQSURA = "ةهىي"
TASHKEEL = "".join(map(chr, range(0x064B, 0x0660))) + "\u0670"
QURANIC_MARKS = "".join(map(chr, range(0x0610, 0x061B))) + "".join(map(chr, range(0x06D6, 0x06EE)))
TATWEEL = "\u0640"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
PERSIAN_URDU_LETTERS = "پچژگکیٹڈڑںےھۂۃہڕڵۆێەټډړښ"
STRONG_PERSIAN = "پچژگ"
# ZWNJ, ZWJ, RLM, LRM, BOM, ALM, ZWSP, soft hyphen, embeddings/overrides, isolates, word joiner
INVISIBLE = "\u200c\u200d\u200f\u200e\ufeff\u061c\u200b\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060"
LATIN = string.ascii_letters + "ßİıﬁﬀǅΣσςÅé"
PUNCTUATION = "،؛؟«»!?.,:;-–—|/\\()[]{}\"'*^+_#@&%٪٫٬"
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x85\u00a0\u2009\u200a\u2028\u3000"

presentation_forms = st.characters(min_codepoint=0xFB50, max_codepoint=0xFDFF) | st.characters(
    min_codepoint=0xFE70, max_codepoint=0xFEFF
)


def _chars(alphabet: str) -> st.SearchStrategy[str]:
    return st.sampled_from(alphabet)


# One weighted alphabet (repetition is weight): mostly Arabic letters, every hazard
# present; presentation forms and arbitrary unicode come from their own branches.
ALPHABET = (
    ARABIC_LETTERS * 4
    + ALEF_HAMZA * 2
    + TA_MARBUTA_MAQSURA * 2
    + TASHKEEL
    + QURANIC_MARKS[::3]
    + TATWEEL * 3
    + ARABIC_INDIC_DIGITS
    + PERSIAN_DIGITS
    + string.digits
    + PERSIAN_URDU_LETTERS
    + INVISIBLE
    + LATIN
    + PUNCTUATION
    + WHITESPACE * 2
)
arabic_char = st.one_of(
    st.sampled_from(ALPHABET),
    presentation_forms,
    st.characters(codec="utf-8"),  # arbitrary unicode; no lone surrogates, as in any decoded page
)
arabic_text = st.text(alphabet=arabic_char, max_size=60)

# Words as news text has them: clitics, hamza/ta marbuta variants, marks between letters.
word_core = st.text(alphabet=st.sampled_from(ARABIC_LETTERS + "أإآٱةى"), min_size=1, max_size=8)
arabic_word = st.builds(
    lambda prefix, core, suffix, marks: marks.join(prefix + core + suffix),
    st.sampled_from(["", "", "و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "لل", "فال", "كال", "وبال", "ولل"]),
    word_core,
    st.sampled_from(["", "", "ة", "ه", "ها", "هم", "هما", "كم", "نا", "ات", "ون", "ين", "ان", "ية", "ي", "ى"]),
    st.sampled_from(["", "", "", "", "\u064e", "\u0651\u0650", "\u0640", "\u200c"]),
)
word_separator = st.sampled_from([" ", " ", "  ", "\n", "، ", "؛ ", "؟ ", " « ", " » ", ". ", "\u200f "])
arabic_prose = st.lists(st.tuples(arabic_word, word_separator), max_size=12).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)
hostile_text = arabic_text | arabic_prose


# --- normalization -------------------------------------------------------------

NON_ASCII_DIGITS = set(ARABIC_INDIC_DIGITS + PERSIAN_DIGITS)


@budgets(fast=50, slow=3000)
def test_normalize_arabic_is_idempotent_and_clean(budget):
    @budget
    @given(hostile_text)
    @example("ﻷَحْمَدُ ١٢٣ ۴۵ ـــ\u200f\ufeff")
    @example("ß\u0345İ\ufb01")  # casefold expansions
    @example("ا\u0640\u0654 ى\u0654 ﹰ")  # hamza on a stretched alef, isolated tanween form
    def check(text):
        once = normalize_arabic(text)
        assert normalize_arabic(once) == once
        assert not TASHKEEL_RE.search(once)  # harakat, superscript alef, Quranic marks, tatweel
        assert not INVISIBLE_RE.search(once)  # zero-width and bidi marks, BOM
        assert not NON_ASCII_DIGITS & set(once)
        assert once == once.strip() and "  " not in once
        assert not any(ch.isspace() and ch != " " for ch in once)
        assert unicodedata.is_normalized("NFKC", once)
        assert tokens(once) == tokens(text)

    check()


@budgets(fast=50, slow=3000)
def test_fast_folding_equals_its_definition(budget):
    """normalize.py folds with str.replace for speed; it must equal translate() and the tokens of the full form."""
    from pipelines.text.normalize import _FOLD, TOKEN_RE, _fold_letters

    @budget
    @given(hostile_text)
    @example("أإآٱٲٳىةؤئکی ٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹")
    def check(text):
        assert _fold_letters(text) == text.translate(_FOLD)
        assert tokens(text) == TOKEN_RE.findall(normalize_arabic(text))

    check()


@budgets(fast=30, slow=1500)
def test_digit_and_tashkeel_helpers(budget):
    @budget
    @given(hostile_text)
    def check(text):
        ascii_digits = to_ascii_digits(text)
        assert len(ascii_digits) == len(text)
        assert not NON_ASCII_DIGITS & set(ascii_digits)
        bare = strip_tashkeel(text)
        assert strip_tashkeel(bare) == bare
        assert not TASHKEEL_RE.search(bare)
        # nothing but the marks goes: the rest keeps its order
        assert bare == "".join(ch for ch in text if not TASHKEEL_RE.match(ch))

    check()


# light_stem() documents two things it does: it only ever removes a prefix and
# suffixes (so the stem is a slice of the token) except for the clitic forms of
# الله, which all give الله (so لله, 3 letters, becomes 4). Idempotence is not
# promised (كتابهاه → كتابها → كتاب), so it is not asserted.
ALLAH_FORMS = {"الله", "والله", "بالله", "فالله", "تالله", "لله", "ولله", "فلله"}


@budgets(fast=50, slow=2000)
def test_light_stem_only_shortens(budget):
    @budget
    @given(hostile_text)
    @example("لله")
    @example("والارهاب للارهاب بالارهاب وارهاب لبنان ايران")
    def check(text):
        for token in tokens(text):
            stem = light_stem(token)
            if token in ALLAH_FORMS:
                assert stem == "الله"
                continue
            assert len(stem) <= len(token)
            assert stem and stem in token  # a slice: only a prefix and suffixes removed
            if len(token) < 3 or token.isascii():
                assert stem == token  # short, digit and Latin tokens pass through

    check()


# --- search text and FTS5 queries -------------------------------------------

FTS_OPERATORS = ['"', '""', "AND", "OR", "NOT", "NEAR", "NEAR(", "*", "^", "(", ")", ":", "+", "-", "{", "}", "x:", ",", "'"]
typed_query = st.lists(
    st.sampled_from(FTS_OPERATORS) | arabic_word | arabic_text, max_size=10
).map(" ".join) | st.lists(st.sampled_from(FTS_OPERATORS) | arabic_char, max_size=20).map("".join)


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    """A real in-memory FTS5 table holding a few indexed documents."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    for doc in ("والإرهاب في المنطقة", "مُؤْتَمَرٌ صَحَفِيٌّ ٢٠٢٤", "NEAR AND OR NOT", "لبنان وإيران"):
        connection.execute("INSERT INTO t (x) VALUES (?)", (search_text(doc),))
    yield connection
    connection.close()


@budgets(fast=50, slow=2000)
def test_fts_query_is_always_a_valid_match_expression(budget, fts):
    @budget
    @given(typed_query)
    @example('"unbalanced AND (NEAR( x* ^y OR NOT')
    @example("ـــ ،؛؟ «» \u064e\u0651")  # only marks and punctuation: no terms at all
    @example("الإرهاب AND NOT والارهاب*")
    def check(query):
        expression = fts_query(query)
        # An empty expression means "nothing to search": callers skip MATCH for it
        # (arshif_search.search_condition, the canned query's `!= ''` guard).
        assert (expression == "") == (tokens(query) == [])
        if expression:
            fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()

    check()


@budgets(fast=30, slow=1500)
def test_an_article_is_found_by_any_of_its_words(budget):
    @budget
    @given(hostile_text, st.data())
    @example("والإرهاب في المنطقة", None)
    def check(text, data):
        words = text.split()
        assume(words)
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        connection.execute("INSERT INTO t (x) VALUES (?)", (search_text(text),))
        if data is None:
            typed = words
        else:
            typed = data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=4), label="typed")
        expression = fts_query(" ".join(typed))
        if expression:
            assert connection.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone() == (1,)

    check()


HARAKAT = "".join(map(chr, range(0x064B, 0x0653))) + "\u0670" + TATWEEL  # fatha … sukun, dagger alef, tatweel
SPELLING_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def _vocalize(text: str, marks: list[tuple[int, str]]) -> str:
    for position, mark in marks:
        position %= len(text) + 1
        text = text[:position] + mark + text[position:]
    return text


@budgets(fast=30, slow=1500)
def test_search_text_ignores_tashkeel_spelling_and_digit_script(budget):
    # search_text.py: "الارهاب" finds "والإرهاب", with or without tashkeel, in any digit script.
    @budget
    @given(hostile_text, st.lists(st.tuples(st.integers(0, 200), st.sampled_from(HARAKAT)), max_size=8))
    @example("مؤتمر صحفي لوزير الصحة عام ٢٠٢٤", [(1, "\u064f"), (2, "\u0652"), (5, "\u0651")])
    def check(text, marks):
        indexed = search_text(text)
        assert indexed == " ".join(light_stem(token) for token in tokens(text))
        assert search_text(normalize_arabic(text)) == indexed
        assert search_text(to_ascii_digits(text)) == indexed
        assert search_text(text.translate(SPELLING_VARIANTS)) == indexed
        bare = strip_tashkeel(text)
        assert search_text(_vocalize(bare, marks)) == search_text(bare)

    check()


# --- dates -------------------------------------------------------------------

# Month names as pages print them: hamza, ta marbuta, alef maqsura, Persian ی/ک.
MONTH_NAMES = [
    "يناير", "فبراير", "مارس", "أبريل", "إبريل", "مايو", "يونيو", "يونيه", "يوليو", "أغسطس", "سبتمبر",
    "أكتوبر", "نوفمبر", "ديسمبر", "كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز",
    "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول", "جانفي", "فيفري", "أفريل", "ماي",
    "جوان", "جويلية", "أوت", "غشت", "شتنبر", "نونبر", "دجنبر", "محرم", "صفر", "ربيع الأول",
    "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة", "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة",
    "ذي الحجة", "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر",
    "دی", "بهمن", "اسفند", "January", "Feb.", "MARCH", "sept", "décembre",
]
DAY_NAMES = ["", "الأحد", "الإثنين", "الثلاثاء", "الجمعة", "السبت", "يوم", "Monday", "سه‌شنبه", "پنجشنبه"]


def _in_script(number: int, width: int = 0) -> st.SearchStrategy[str]:
    digits = str(number).zfill(width)
    return st.sampled_from(
        [digits, digits.translate(str.maketrans("0123456789", ARABIC_INDIC_DIGITS)),
         digits.translate(str.maketrans("0123456789", PERSIAN_DIGITS))]
    )


number = st.integers(0, 60).flatmap(_in_script) | st.integers(0, 9999).flatmap(_in_script)
year = (st.integers(1300, 1500) | st.integers(1960, 2110) | st.integers(0, 9999)).flatmap(_in_script)
clock = st.builds(
    lambda h, m, s, suffix: f"{h}:{m}{s}{suffix}",
    st.integers(0, 30).flatmap(_in_script),
    st.integers(0, 70).flatmap(lambda n: _in_script(n, 2)),
    st.sampled_from(["", ":00", ":59", ":61", ":05.123"]),
    st.sampled_from(["", " ص", " م", " مساءً", " صباحا", " ظهرا", " ليلا", " PM", " a.m.", " GMT",
                     " ت.غ", " (بتوقيت مكة المكرمة)", " UTC+3", " GMT-99", " +0530", " +15:00", "Z"]),
)
dateline = st.lists(
    st.one_of(
        number, year, clock, st.sampled_from(MONTH_NAMES), st.sampled_from(DAY_NAMES),
        st.sampled_from(["/", "-", ".", "،", "(", ")", "هـ", "م", "عام", "سنة", "من", "شهر", "الموافق",
                         "منذ", "قبل", "ساعتين", "ساعات", "دقائق", "أيام", "أسبوع", "أمس", "أول أمس",
                         "ago", "hours", "days", "پیش", "روز", "T", "الساعة", "في"]),
        arabic_text,
    ),
    max_size=10,
).map(" ".join) | st.builds(
    "{}{}{}{}{}".format, year, st.sampled_from("-/."), number, st.sampled_from("-/."), number
)


def assert_valid_iso(value: str | None, max_year: int = MAX_YEAR) -> None:
    """None, or an ISO date/datetime that Python parses, with a year in the archive's range."""
    if value is None:
        return
    assert isinstance(value, str)
    parsed = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    assert parsed.isoformat().startswith(value[:10])
    assert MIN_YEAR <= parsed.year <= max_year, value


# `now` is kept from 2010 on: a relative dateline goes back at most 999 weeks
# (19 years), and from an earlier `now` that crosses 1990 (see the xfail below).
nows = st.none() | st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2099, 1, 1)) | st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2099, 1, 1),
    timezones=st.builds(timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))),
)


@budgets(fast=60, slow=3000)
def test_parse_date_text_gives_a_valid_date_or_none(budget):
    @budget
    @given(dateline | hostile_text, nows)
    @example("١٥ رمضان ١٤٤٥ هـ", None)
    @example("۲۱ اردیبهشت ۱۳۹۹ - ۱۸:۵۹", None)
    @example("31 فبراير 2020 الساعة 25:61 مساءً GMT+99", None)
    @example("29/02/2023", None)
    @example("منذ 999 أسبوع", datetime(2010, 1, 1))
    def check(text, now):
        max_year = now.year + 1 if now else MAX_YEAR
        result = parse_date_text(text, now=now)
        assert_valid_iso(result, max_year)
        assert parse_date_text(text, now=now) == result

    check()


iso_like = st.builds(
    "{}-{}-{}{}{}".format,
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
    st.sampled_from(["", "T", " ", "t"]).flatmap(
        lambda sep: st.just("") if not sep else st.builds(
            "{}{:02d}:{:02d}{}".format, st.just(sep), st.integers(0, 99), st.integers(0, 99),
            st.sampled_from(["", ":00", ":60", ".123456", ":59,5"]),
        )
    ),
    st.sampled_from(["", "Z", "z", "+03:00", "-0530", "+99", "+14:59", "+15:00", "+0000", " +03:00"]),
)


@budgets(fast=60, slow=2000)
def test_parse_iso_date_gives_a_valid_date_or_none(budget):
    @budget
    @given(iso_like | dateline | hostile_text)
    @example("2024-03-08T10:40:21+0500")
    @example("2023-02-29T10:00")
    @example("2020-03-17T24:00")
    @example("۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹")
    def check(value):
        assert_valid_iso(parse_iso_date(value))

    check()


# --- URLs --------------------------------------------------------------------

TRACKING_KEYS = ["utm_source", "utm_medium", "UTM_Campaign", "utm_content", "fbclid", "FBCLID", "gclid", "_ga",
                 "mc_cid", "ref", "from", "share", "igshid", "amp;utm_source", "at_medium", "xtor",
                 # written the other ways a link can carry them
                 "utm%5Fsource", "fbcl%69d", "utm_a+b", "utm_source\n", "fb\tclid", " utm_term", "%20fbclid"]
PLAIN_KEYS = ["id", "p", "page", "q", "amp", "outputType", "source_id", "gallery", "ref_id", "utm", "cat", "ا", "بحث"]
URL_CHARS = ARABIC_LETTERS + "ءأة" + string.ascii_letters + string.digits + "-._~!$'()*,;:@ %+[]\\"
url_text = st.text(alphabet=st.sampled_from(URL_CHARS) | st.characters(codec="utf-8"), max_size=10)
param_key = st.sampled_from(TRACKING_KEYS) | st.sampled_from(PLAIN_KEYS) | st.text(
    alphabet=st.sampled_from(ARABIC_LETTERS + string.ascii_letters + "_-"), min_size=1, max_size=8
)


def _query_part(text: str, encode: bool) -> str:
    return quote(text, safe="") if encode else "".join(ch for ch in text if ch not in "&=#")


def _path_segment(text: str, encode: bool) -> str:
    return quote(text, safe="") if encode else "".join(ch for ch in text if ch not in "/?#")


host = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "www.", "m.", "amp.", "mobile.", "www.m.", "amp.www."]),
    st.sampled_from(["aljazeera.net", "example.com", "bbc.co.uk", "مثال.مصر", "xn--mgbh0fb.xn--wgbh1c",
                     "youm7.com", "127.0.0.1", "EXAMPLE.COM", "a-b.example.org"]),
    st.sampled_from(["", "", ":80", ":443", ":8080", ":0"]),
)
path_segment = st.sampled_from(
    ["amp", "news", "2024", "..", ".", "", "x.amp", "x.amp.html", "index.html", "%D8%A7", "%7E", "%2F", "%zz"]
) | st.builds(_path_segment, url_text, st.booleans())
path = st.lists(path_segment, max_size=5).map(lambda parts: "/" + "/".join(parts))
param = st.builds(
    lambda key, value, encode_key, encode: f"{_query_part(key, encode_key)}={_query_part(value, encode)}",
    param_key, url_text, st.booleans(), st.booleans(),
)
query = st.lists(param, max_size=5).map("&".join)
urls = st.builds(
    "{}://{}{}{}{}".format,
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    host,
    path,
    query.map(lambda q: f"?{q}" if q else ""),
    st.sampled_from(["", "#", "#top", "#مقدمة", "#a?b=c"]),
)
folds = st.sets(st.sampled_from(sorted(FOLDS)))


@budgets(fast=50, slow=2000)
def test_canonical_url_is_stable_and_drops_tracking(budget):
    @budget
    @given(urls)
    @example("https://www.aljazeera.net/news/2024/1/1/عنوان?utm_source=x&fbclid=y&id=3#top")
    @example("http://example.com:80/a/../b/./c?b=2&a=1&amp;utm_medium=z")
    def check(url):
        canonical = canonical_url(url)
        assert canonical_url(canonical) == canonical
        parts = urlsplit(canonical)
        assert parts.fragment == "" and "#" not in canonical
        keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
        assert not [key for key in keys if is_tracking_param(key) or is_tracking_param(key.strip())]

    check()


def _empty_params_after_fold(url: str) -> bool:
    # "/x;/amp" folds to "/x;", whose empty ";" params the next canonicalization
    # drops: pinned below (test_bug_fold_leaves_empty_params); kept out until fixed.
    return re.search(r";(?:/amp|\.amp)", url, re.IGNORECASE) is not None


@budgets(fast=40, slow=1500)
def test_folded_canonical_url_is_stable(budget):
    @budget
    @given(urls.filter(lambda url: not _empty_params_after_fold(url)), folds)
    @example("https://amp.example.com/amp/news/x.amp.html?outputType=amp&id=1", {"amp", "www", "mobile"})
    def check(url, fold):
        folded = canonical_url(url, fold)
        assert canonical_url(folded, fold) == folded

    check()


# Found by the properties above (and fixed in urls.py while they were being written).
@pytest.mark.parametrize("url", [
    "http://a.com/?utm%5Fsource=x",
    "http://a.com/?fbcl%69d=1",
    "http://a.com/?utm_a+b=1",
    "http://a.com/?utm_source\n=x",
    "http://a.com/?fb\tclid=1",
])
def test_encoded_tracking_key_is_dropped(url):
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert not [k for k, _ in parse_qsl(urlsplit(canonical).query) if is_tracking_param(k)]


@pytest.mark.parametrize("url", ["http://www.m.x.com/", "http://www.www.x.com/", "http://a.com/x.amp.amp",
                                 "http://a.com/a/amp.amp"])
def test_fold_is_idempotent_on_stacked_variants(url):
    fold = {"www", "mobile", "amp"}
    folded = canonical_url(url, fold)
    assert canonical_url(folded, fold) == folded


# --- language ----------------------------------------------------------------

@budgets(fast=20, slow=1000)
def test_detect_language_is_deterministic_and_bounded(budget):
    @budget
    @given(hostile_text, hostile_text)
    @example("", "")
    @example("ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ", "hello world")
    def check(text, other):
        first = detect_language(text)
        detect_language(other)  # no state leaks from one call to the next
        assert detect_language(text) == first
        code, probability = first
        assert isinstance(code, str) and code
        assert isinstance(probability, float) and 0.0 <= probability <= 1.0
        assert 0.0 <= arabic_script_ratio(text) <= 1.0

    check()


persian_dominant = st.lists(
    st.one_of(_chars(STRONG_PERSIAN), _chars(ARABIC_LETTERS), _chars("کیةىيك"), _chars(TASHKEEL), _chars(" ،")),
    min_size=1,
    max_size=80,
).map("".join)


@budgets(fast=20, slow=1000)
def test_persian_dominated_text_is_never_arabic(budget):
    @budget
    @given(persian_dominant, hostile_text)
    @example("پدر و مادر", "")
    @example("گزارش خبرگزاری درباره چین", "")
    def check(text, noise):
        text = text + " " + noise
        # What detect_language reads: the first 2000 characters, NFKC, without marks.
        sample = strip_tashkeel(unicodedata.normalize("NFKC", text[:2000]))
        strong = sum(ch in STRONG_PERSIAN for ch in sample)
        arabic_only = sum(ch in "ةىيك" for ch in sample)
        arabic_script = sum(1 for ch in sample if ch.isalpha() and ARABIC_SCRIPT_RE.match(ch))
        # docstring, rule 2: Persian letters ≥ 1% of the Arabic-script letters and
        # outnumbering half the Arabic-only letters decide, whatever langdetect says.
        assume(strong > arabic_only and strong * 100 >= arabic_script)
        assert detect_language(text)[0] != "ar"

    check()


# --- titles ------------------------------------------------------------------

title_part = st.sampled_from(["BBC News عربي", "الجزيرة نت", "اليوم السابع", "2 - 1", "«عاجل»"]) | hostile_text
title_separator = st.sampled_from([" - ", " | ", "|", " :: ", " « ", " » ", " – ", " — ", "｜", "||", ": ", "-"])
titles = st.builds("{}{}{}{}{}".format, title_part, title_separator, title_part, title_separator, title_part) | st.builds(
    "{}{}{}".format, title_part, title_separator, title_part
) | hostile_text


@budgets(fast=50, slow=2000)
def test_clean_title_never_grows(budget):
    @budget
    @given(titles, st.none() | title_part)
    @example("الخبر | الخبر", None)
    @example("اليوم السابع | عنوان الخبر الطويل هنا", "اليوم السابع")
    @example("\u200f | \u200f", "\u200f")
    def check(title, site_name):
        cleaned = clean_title(title, site_name)
        assert isinstance(cleaned, str)
        assert len(cleaned) <= len(" ".join(title.split()))
        assert cleaned == cleaned.strip() and "  " not in cleaned
        assert not BIDI_RE.search(cleaned)

    check()


# --- encodings ---------------------------------------------------------------

DECLARED = ["undefined", "idna", "utf-8", "windows-1256", "cp1256", "iso-8859-6", "arabic", "cp720", "mac-arabic", "latin-1",
            "utf-16", "utf-32", "utf-7", "koi8-r", "gb18030", "big5", "shift_jis", "x-user-defined",
            "rot13", "base64", "zlib", "uu", "unicode_escape", "punycode", "bogus", "", "utf8;q=1"]
declared_meta = st.sampled_from(DECLARED).map(lambda name: f'<meta charset="{name}">'.encode())
body_bytes = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda meta, raw: meta + raw, declared_meta, st.binary(max_size=200)),
    st.builds(
        lambda meta, text, enc: meta + text.encode(enc, errors="replace"),
        declared_meta, hostile_text, st.sampled_from(["utf-8", "cp1256", "iso-8859-6", "utf-16", "latin-1"]),
    ),
    st.builds(lambda bom, raw: bom + raw, st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
                                                          b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]),
              st.binary(max_size=100)),
)
content_types = st.none() | st.sampled_from(DECLARED).map(lambda name: f"text/html; charset={name}") | st.text(max_size=30)


@budgets(fast=60, slow=2500)
def test_decode_html_never_raises(budget):
    @budget
    @given(body_bytes, content_types)
    @example(b"\xc7\xe1\xd3\xe1\xc7\xe3 \xda\xe1\xed\xdf\xe3", "text/html; charset=iso-8859-1")
    @example(b'<meta charset="rot13">\xff', None)
    def check(body, content_type):
        text, encoding = decode_html(body, content_type)
        assert isinstance(text, str) and isinstance(encoding, str) and encoding
        try:
            as_utf8 = body.decode("utf-8")
        except UnicodeDecodeError:
            return
        if not body.startswith(b"\xef\xbb\xbf"):
            assert (text, encoding) == (as_utf8, "utf-8")  # "a body that is valid UTF-8 is UTF-8"

    check()


# --- fast paths: each equals the plain code it replaced ------------------------

control_bytes = st.binary(max_size=40) | st.lists(
    st.sampled_from([b"\x00", b"\x01", b"\x08", b"\t", b"\n", b"\x0b", b"\x0c", b"\r", b"\x1b", b"\x1f", b"\xc3",
                     b"\xd8", b"\xa7", b"\xd8\xa7", b"\xef\xbb\xbf", b"\xff\xfe", b"<p>", " ة ".encode()]),
    max_size=20,
).map(b"".join)


@budgets(fast=80, slow=3000)
def test_collapse_space_is_the_whitespace_regex(budget):
    from pipelines.text.normalize import WHITESPACE_RE, collapse_space

    @budget
    @given(hostile_text | st.text(alphabet=st.sampled_from(WHITESPACE + "ab\u200c\u00a0\x00"), max_size=12))
    @example("a\u3000b \u2028")
    @example("  ")
    def check(text):
        assert collapse_space(text) == WHITESPACE_RE.sub(" ", text).strip()

    check()


def test_only_the_space_is_printable_whitespace():
    """collapse_space's premise: str.split() splits on what \\s matches, and of those only " " is printable."""
    every = [chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000]
    spaces = [ch for ch in every if re.match(r"\s", ch)]
    assert spaces == [ch for ch in every if ch.isspace()]
    assert [ch for ch in spaces if ch.isprintable()] == [" "]


@budgets(fast=50, slow=2000)
def test_text_tokens_are_its_normalized_lines_tokens(budget):
    """extraction.extract_with_tokens reads a text's tokens off its lines' normalize_arabic keys."""
    from pipelines.text.normalize import TOKEN_RE

    @budget
    @given(st.lists(hostile_text, max_size=6))
    @example(["ا", "\u0654ب"])  # a mark opening a line does not compose across the break
    @example(["ﻻ", "ß\u0345"])
    def check(lines):
        assert tokens("\n".join(lines)) == TOKEN_RE.findall(" ".join(normalize_arabic(line) for line in lines))

    check()


@budgets(fast=60, slow=2500)
def test_control_characters_go_as_the_regex_removes_them(budget):
    from pipelines.extraction.article import _CONTROL_RE, _without_controls

    @budget
    @given(body_bytes | control_bytes, content_types)
    @example(b"\xd8\x01\xa7", None)  # a control byte inside a broken UTF-8 sequence
    def check(body, content_type):
        text, encoding = decode_html(body, content_type)
        assert _without_controls(text, body, encoding) == _CONTROL_RE.sub("", text)

    check()


@budgets(fast=50, slow=2000)
def test_letter_counts_are_the_per_character_definitions(budget):
    from pipelines.text.language import (
        _ARABIC_SCRIPT_LETTERS,
        _NON_ARABIC_LETTER_RE,
        NON_ARABIC_LETTERS,
        _letter_counts,
    )

    @budget
    @given(hostile_text)
    @example("ﺍﻟﺴﻼﻡ 𝐀 😀 پ ۴")  # beyond the BMP table
    @example("\ud800ة")  # a lone surrogate
    def check(text):
        assert _letter_counts(text) == (sum(map(str.isalpha, text)), sum(map(_ARABIC_SCRIPT_LETTERS.__contains__, text)))
        assert (_NON_ARABIC_LETTER_RE.search(text) is None) == NON_ARABIC_LETTERS.isdisjoint(text)

    check()


# --- bugs found by these properties: fixed ones stay as regression tests, open ones are strict xfail ---

@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="BUG (low): canonical_url raises on a host that NFKC (IDNA) turns into a bracket: "
                   "w3lib makes 'http://］' into 'http://]/', which urlsplit rejects")
def test_bug_canonical_url_fullwidth_bracket_host():
    canonical_url("http://\uff3d")


@pytest.mark.xfail(strict=True, reason="BUG (low): fold_url is not re-canonicalized: removing an amp segment "
                   "or suffix after ';' leaves empty params ('/x;'), which the next canonical_url drops: not idempotent")
@pytest.mark.parametrize("url", ["http://a.com/x;/amp", "http://a.com/x;.amp"])
def test_bug_fold_leaves_empty_params(url):
    folded = canonical_url(url, {"amp"})
    assert canonical_url(folded, {"amp"}) == folded


def test_fixed_relative_dateline_before_min_year():
    assert_valid_iso(parse_date_text("منذ 999 أسبوع", now=datetime(2000, 1, 1)), 2001)


def test_fixed_relative_dateline_overflow():
    assert parse_date_text("منذ 5 ساعات", now=datetime(1, 1, 1)) is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<meta charset="undefined">\xff', None),
        (b"\xff", "text/html; charset=undefined"),
        (b'xn--!.<meta charset="idna">\xff', None),
    ],
)
def test_fixed_decode_html_undefined_charset(body, content_type):
    decode_html(body, content_type)
