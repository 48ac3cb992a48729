"""Read publication dates from Arabic, Persian and English datelines and metadata as ISO 8601."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from hijridate import Hijri

from .normalize import normalize_arabic

__all__ = ["hijri_to_gregorian", "jalali_to_gregorian", "parse_date_text", "parse_iso_date"]

MIN_YEAR = 1990
MAX_YEAR = 2100
# Datelines are short; never scan more than this many characters.
MAX_TEXT_CHARS = 1000

GREGORIAN, HIJRI, JALALI = "gregorian", "hijri", "jalali"

# Month names in their normalize_arabic() form (alef/hamza folded, ة → ه,
# ى/ی → ي, ک → ك, casefolded). One table for every region.
_GREGORIAN_MONTHS = {
    1: ("يناير", "كانون الثاني", "كانون ثاني", "جانفي", "january", "jan", "janvier", "جنوری", "ژانویه"),
    2: ("فبراير", "شباط", "فيفري", "february", "feb", "fevrier", "février", "فروری", "فوریه"),
    3: ("مارس", "اذار", "march", "mar", "mars", "مارچ"),
    4: ("ابريل", "افريل", "نيسان", "april", "apr", "avril", "اپریل", "آوریل"),
    5: ("مايو", "ماي", "ايار", "may", "mai", "مئی"),
    6: ("يونيو", "يونيه", "جوان", "حزيران", "june", "jun", "juin", "جون", "ژوئن"),
    7: ("يوليو", "يوليه", "يوليوز", "جويليه", "تموز", "july", "jul", "juillet", "جولائی", "ژوئیه"),
    8: ("اغسطس", "غشت", "اوت", "اب", "august", "aug", "aout", "août", "اگست"),
    9: ("سبتمبر", "شتنبر", "ايلول", "september", "sept", "sep", "septembre", "ستمبر", "سپتامبر"),
    10: ("اكتوبر", "تشرين الاول", "تشرين اول", "october", "oct", "octobre", "اکتوبر", "اکتبر"),
    11: ("نوفمبر", "نونبر", "تشرين الثاني", "تشرين ثاني", "november", "nov", "novembre", "نومبر", "نوامبر"),
    12: ("ديسمبر", "دجنبر", "كانون الاول", "كانون اول", "december", "dec", "decembre", "décembre", "دسمبر", "دسامبر"),
}
_HIJRI_MONTHS = {
    1: ("محرم",),
    2: ("صفر",),
    3: ("ربيع الاول", "ربيع اول"),
    4: ("ربيع الثاني", "ربيع الاخر", "ربيع ثاني", "ربيع اخر"),
    5: ("جمادي الاولي", "جمادي الاول", "جمادي اولي"),
    6: ("جمادي الثانيه", "جمادي الاخره", "جمادي الثاني", "جمادي الاخر", "جمادي ثاني"),
    7: ("رجب",),
    8: ("شعبان",),
    9: ("رمضان",),
    10: ("شوال",),
    11: ("ذو القعده", "ذي القعده", "ذوالقعده"),
    12: ("ذو الحجه", "ذي الحجه", "ذوالحجه"),
}
# Solar Hijri (Iranian) months. Note آذر (اذر, 9th month) is not آذار (اذار, March).
_JALALI_MONTHS = {
    1: ("فروردين",),
    2: ("ارديبهشت",),
    3: ("خرداد",),
    4: ("تير",),
    5: ("مرداد",),
    6: ("شهريور",),
    7: ("مهر",),
    8: ("ابان",),
    9: ("اذر",),
    10: ("دي",),
    11: ("بهمن",),
    12: ("اسفند",),
}
MONTHS: dict[str, tuple[str, int]] = {}
for _calendar, _table in ((GREGORIAN, _GREGORIAN_MONTHS), (HIJRI, _HIJRI_MONTHS), (JALALI, _JALALI_MONTHS)):
    for _number, _names in _table.items():
        for _name in _names:
            MONTHS[normalize_arabic(_name)] = (_calendar, _number)
del _calendar, _table, _number, _names, _name

_NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
_NOT_LETTER_AFTER = r"(?![^\W\d_])"
_MONTH_ALT = "|".join(re.escape(name) for name in sorted(MONTHS, key=len, reverse=True))
_MONTH = rf"{_NOT_LETTER_BEFORE}(?:{_MONTH_ALT})\.?{_NOT_LETTER_AFTER}"
# "نيسان / أبريل", "آذار (مارس)", "حزيران - يونيو": the second name is a gloss.
_MONTH_PAIR = rf"(?P<month>{_MONTH})(?:\s*[/(\-–]\s*{_MONTH}\s*\)?)?"
_ERA = rf"(?:\s*(?P<era>ه|م|ad){_NOT_LETTER_AFTER})?"
_DAY = r"(?<![\d:])(?P<day>\d{1,2})(?:st|nd|rd|th|er)?(?![\d:])"
_YEAR = r"(?P<year>\d{4})(?!\d)"

NAMED_DMY_RE = re.compile(
    rf"{_DAY}[\s,.\-/،]*(?:(?:من|of)\s+)?(?:شهر\s+)?{_MONTH_PAIR}[\s,.\-/،]*(?:(?:عام|سنه)\s+)?{_YEAR}{_ERA}"
)
NAMED_MDY_RE = re.compile(rf"{_MONTH_PAIR}[\s.\-]*{_DAY}[\s,،]*{_YEAR}{_ERA}")
NUMERIC_YMD_RE = re.compile(
    r"(?<![\d:/.\-])(?P<year>\d{4})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*(?P<day>\d{1,2})(?![\d:])" + _ERA
)
NUMERIC_DMY_RE = re.compile(
    r"(?<![\d:/.\-])(?P<day>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*(?P<year>\d{4})(?![\d:])" + _ERA
)

_TZ = (
    r"(?P<tz>"
    r"(?:utc|gmt)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?"
    r"|z(?![^\W\d_])"
    r"|[+-]\d{2}:?\d{2}"
    r"|\(?\s*(?:ت\s*\.?\s*غ|(?:بتوقيت\s+)?(?:غرينتش|جرينتش|غرينيتش|جرينيتش))\s*\)?"
    r"|\(?\s*(?:بتوقيت\s+)?مكه(?:\s+المكرمه)?\s*\)?"
    r")"
)
TIME_RE = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?(?![\d:])"
    r"(?:\s*(?P<ampm>صباحا|صباح|ص|فجرا|مساءا|مساء|م|عصرا|ظهرا|ليلا|a\.?m\.?|p\.?m\.?)(?![^\W\d_]))?"
    rf"(?:\s*{_TZ})?"
)
_TZ_OFFSET_RE = re.compile(r"(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?")
_AM = frozenset({"ص", "صباح", "صباحا", "فجرا", "am", "a.m.", "a.m", "am."})
_PM = frozenset({"م", "مساء", "مساءا", "عصرا", "pm", "p.m.", "p.m", "pm."})

# Words allowed between a date and its time ("24 مايو 2020 الساعة 10:00",
# "٠٢:٠٠ الثلاثاء ١ / ١٢ / ٢٠٢٠", "2020-12-01T02:00").
_FILLER_WORDS = frozenset(
    normalize_arabic(w)
    for w in ["t", "at", "on", "في", "على", "عند", "يوم", "الساعة", "ساعة", "ساعت", "الموافق", "بتاريخ", "تاريخ", "الأحد", "الإثنين", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "أحد", "إثنين", "اثنين", "ثلاثاء", "أربعاء", "خميس", "جمعة", "سبت", "شنبه", "یکشنبه", "دوشنبه", "سه\u200cشنبه", "سه", "چهارشنبه", "پنجشنبه", "پنج\u200cشنبه", "جمعه", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
)
_MAX_GAP = 40
_GAP_WORD_RE = re.compile(r"[^\W_]+")

# Relative datelines. Plural nouns without a number ("منذ ساعات") are vague and ignored.
_NUMBER_WORDS = {
    normalize_arabic(w): n
    for n, words in {
        1: "واحد واحدة",
        2: "اثنين اثنتين اثنان اثنتان",
        3: "ثلاث ثلاثة",
        4: "أربع أربعة",
        5: "خمس خمسة",
        6: "ست ستة",
        7: "سبع سبعة",
        8: "ثماني ثمان ثمانية",
        9: "تسع تسعة",
        10: "عشر عشرة",
    }.items()
    for w in words.split()
}
_SECOND, _MINUTE, _HOUR, _DAY_UNIT, _WEEK = 1, 60, 3600, 86400, 604800
# normalized unit word -> (seconds, implied count or None when a number is required)
_AR_UNITS = {
    normalize_arabic(word): value
    for word, value in {
        "ثانيه": (_SECOND, 1),
        "ثانيتين": (_SECOND, 2),
        "ثانيتان": (_SECOND, 2),
        "ثوان": (_SECOND, None),
        "ثواني": (_SECOND, None),
        "دقيقه": (_MINUTE, 1),
        "دقيقتين": (_MINUTE, 2),
        "دقيقتان": (_MINUTE, 2),
        "دقائق": (_MINUTE, None),
        "ساعه": (_HOUR, 1),
        "ساعتين": (_HOUR, 2),
        "ساعتان": (_HOUR, 2),
        "ساعات": (_HOUR, None),
        "يوم": (_DAY_UNIT, 1),
        "يومين": (_DAY_UNIT, 2),
        "يومان": (_DAY_UNIT, 2),
        "ايام": (_DAY_UNIT, None),
        "اسبوع": (_WEEK, 1),
        "اسبوعين": (_WEEK, 2),
        "اسبوعان": (_WEEK, 2),
        "اسابيع": (_WEEK, None),
    }.items()
}
_AR_NUMBER_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_AR_UNIT_ALT = "|".join(sorted(_AR_UNITS, key=len, reverse=True))
AR_RELATIVE_RE = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?:منذ|قبل)\s+(?:(?P<count>\d{{1,3}}|{_AR_NUMBER_ALT})\s+)?(?P<unit>{_AR_UNIT_ALT}){_NOT_LETTER_AFTER}"
)
EN_RELATIVE_RE = re.compile(r"\b(?P<count>\d{1,3}|an?|one)\s+(?P<unit>second|minute|min|hour|day|week)s?\s+ago\b")
FA_RELATIVE_RE = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?P<count>\d{{1,3}})\s+(?P<unit>ثانيه|دقيقه|ساعت|روز|هفته)\s+(?:پيش|قبل){_NOT_LETTER_AFTER}"
)
_EN_UNITS = {"second": _SECOND, "minute": _MINUTE, "min": _MINUTE, "hour": _HOUR, "day": _DAY_UNIT, "week": _WEEK}
_FA_UNITS = {"ثانيه": _SECOND, "دقيقه": _MINUTE, "ساعت": _HOUR, "روز": _DAY_UNIT, "هفته": _WEEK}
YESTERDAY_RE = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?P<before>اول\s+(?:من\s+)?)?(?:امس|البارحه|ديروز|yesterday){_NOT_LETTER_AFTER}"
)

# Signals that a numeric year below 1700 is Solar Hijri: Persian digits or
# letters in the raw text, or a Persian month/word in the normalized text.
PERSIAN_DIGIT_RE = re.compile("[۰-۹]")
PERSIAN_LETTER_RE = re.compile("[پچژگکی]")
# (دي، مهر، تير are left out: they are also ordinary Arabic words.)
_PERSIAN_WORDS = ("ساعت", "فروردين", "ارديبهشت", "خرداد", "مرداد", "شهريور", "ابان", "اذر", "بهمن", "اسفند")
_PERSIAN_WORD_RE = re.compile(rf"{_NOT_LETTER_BEFORE}(?:{'|'.join(_PERSIAN_WORDS)}){_NOT_LETTER_AFTER}")
_HIJRI_WORD_RE = re.compile(rf"{_NOT_LETTER_BEFORE}(?:هجري|هجريه){_NOT_LETTER_AFTER}")

# Solar Hijri year breaks of the Borkowski/jalaali algorithm (exact for 1178..3177 AP).
_JALALI_BREAKS = (
    -61,
    9,
    38,
    199,
    426,
    686,
    756,
    818,
    1111,
    1181,
    1210,
    1635,
    2060,
    2097,
    2192,
    2262,
    2324,
    2394,
    2456,
    3178,
)


def _nowruz(jalali_year: int) -> date:
    """Gregorian date of 1 Farvardin of ``jalali_year``."""
    gregorian_year = jalali_year + 621
    leap_j = -14
    previous = _JALALI_BREAKS[0]
    jump = 0
    for brk in _JALALI_BREAKS[1:]:
        jump = brk - previous
        if jalali_year < brk:
            break
        leap_j += (jump // 33) * 8 + (jump % 33) // 4
        previous = brk
    n = jalali_year - previous
    leap_j += (n // 33) * 8 + ((n % 33) + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gregorian_year // 4 - ((gregorian_year // 100 + 1) * 3) // 4 - 150
    return date(gregorian_year, 3, 20 + leap_j - leap_g)


def jalali_to_gregorian(year: int, month: int, day: int) -> date:
    """Convert a Solar Hijri (Jalali) date; ValueError when it does not exist."""
    if not (_JALALI_BREAKS[0] < year < _JALALI_BREAKS[-1] - 1 and 1 <= month <= 12 and day >= 1):
        raise ValueError(f"invalid Jalali date {year}-{month}-{day}")
    start = _nowruz(year)
    if month <= 6:
        month_length, offset = 31, (month - 1) * 31
    elif month <= 11:
        month_length, offset = 30, 186 + (month - 7) * 30
    else:
        month_length, offset = (_nowruz(year + 1) - start).days - 336, 336
    if day > month_length:
        raise ValueError(f"invalid Jalali date {year}-{month}-{day}")
    return start + timedelta(days=offset + day - 1)


def hijri_to_gregorian(year: int, month: int, day: int) -> date:
    """Convert a lunar Hijri date (Umm al-Qura, 1343..1500 AH); ValueError when invalid."""
    try:
        return Hijri(year, month, day).to_gregorian()
    except (OverflowError, ValueError, TypeError) as exc:
        raise ValueError(f"invalid Hijri date {year}-{month}-{day}") from exc


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    calendar: str
    day: date


@dataclass(frozen=True)
class _Time:
    hour: int
    minute: int
    second: int
    offset: str | None


def _to_gregorian(calendar: str, year: int, month: int, day: int, max_year: int) -> date | None:
    try:
        if calendar == GREGORIAN:
            result = date(year, month, day)
        elif calendar == HIJRI:
            result = hijri_to_gregorian(year, month, day)
        else:
            result = jalali_to_gregorian(year, month, day)
    except ValueError:
        return None
    return result if MIN_YEAR <= result.year <= max_year else None


def _numeric_calendar(year: int, era: str | None, persian_hint: bool, hijri_hint: bool) -> str | None:
    """Calendar of an all-digit date: years < 1700 are Solar Hijri or lunar Hijri, never guessed."""
    if year >= 1700:
        return GREGORIAN if era != "ه" else None
    if era == "ه":
        return HIJRI
    if era in ("م", "ad"):
        return None
    if persian_hint:
        return JALALI
    if hijri_hint:
        return HIJRI
    return None


def _find_dates(text: str, persian_hint: bool, hijri_hint: bool, max_year: int) -> list[_Candidate]:
    found: list[_Candidate] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(match: re.Match[str], calendar: str | None, year: int, month: int, day: int) -> None:
        taken.append(match.span())
        if calendar is None:
            return
        result = _to_gregorian(calendar, year, month, day, max_year)
        if result is not None:
            found.append(_Candidate(match.start(), match.end(), calendar, result))

    for pattern in (NAMED_DMY_RE, NAMED_MDY_RE):
        for match in pattern.finditer(text):
            if not free(*match.span()):
                continue
            calendar, month = MONTHS[match["month"].rstrip(".")]
            year, era = int(match["year"]), match["era"]
            if calendar == GREGORIAN and (year < 1700 or era == "ه") or calendar != GREGORIAN and (year >= 1700 or era in ("م", "ad")) or calendar == JALALI and era == "ه":
                calendar = None
            add(match, calendar, year, month, int(match["day"]))

    for pattern in (NUMERIC_YMD_RE, NUMERIC_DMY_RE):
        for match in pattern.finditer(text):
            if not free(*match.span()):
                continue
            year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
            calendar = _numeric_calendar(year, match["era"], persian_hint, hijri_hint)
            if pattern is NUMERIC_DMY_RE and month > 12 >= day:
                month, day = day, month  # month-first (US) order
            add(match, calendar, year, month, day)
    return sorted(found, key=lambda c: c.start)


def _gap_is_filler(gap: str) -> bool:
    if len(gap) > _MAX_GAP or any(ch.isdigit() for ch in gap):
        return False
    return all(word in _FILLER_WORDS for word in _GAP_WORD_RE.findall(gap))


def _parse_offset(tz: str | None) -> str | None:
    if not tz:
        return None
    if "مكه" in tz:
        return "+03:00"  # Mecca time, UTC+3 all year
    match = _TZ_OFFSET_RE.search(tz)
    if not match:
        return "+00:00"  # UTC, GMT, Z, توقيت غرينتش
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if hours > 14 or minutes > 59:
        return None
    return f"{match['sign']}{hours:02d}:{minutes:02d}"


def _time_from_match(match: re.Match[str]) -> _Time | None:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    ampm = match["ampm"]
    if ampm in _AM:
        if hour == 12:
            hour = 0
    elif ampm in _PM:
        if hour < 12:
            hour += 12
    elif ampm == "ظهرا":
        if 1 <= hour <= 6:
            hour += 12
    elif ampm == "ليلا":
        if hour == 12:
            hour = 0
        elif 6 <= hour < 12:
            hour += 12
    if hour > 23 or minute > 59 or second > 59:
        return None
    return _Time(hour, minute, second, _parse_offset(match["tz"]))


def _find_time(text: str, candidate: _Candidate) -> _Time | None:
    """The time written right after the date, else right before it, with only filler between."""
    after = TIME_RE.search(text, candidate.end, candidate.end + _MAX_GAP + 40)
    if after and _gap_is_filler(text[candidate.end : after.start()]):
        return _time_from_match(after)
    window_start = max(0, candidate.start - _MAX_GAP - 40)
    before = None
    for match in TIME_RE.finditer(text, window_start, candidate.start):
        before = match
    if before and _gap_is_filler(text[before.end() : candidate.start]):
        return _time_from_match(before)
    return None


def _format(day: date, time: _Time | None) -> str:
    if time is None:
        return day.isoformat()
    result = f"{day.isoformat()}T{time.hour:02d}:{time.minute:02d}:{time.second:02d}"
    return result + (time.offset or "")


def _format_datetime(moment: datetime) -> str:
    result = moment.strftime("%Y-%m-%dT%H:%M:%S")
    offset = moment.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        result += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return result


def _relative(text: str, now: datetime) -> str | None:
    seconds = None
    match = AR_RELATIVE_RE.search(text)
    if match:
        unit, implied = _AR_UNITS[match["unit"]]
        raw = match["count"]
        count = int(raw) if raw and raw.isdigit() else _NUMBER_WORDS.get(raw or "", implied)
        if count is not None:
            seconds = count * unit
    if seconds is None and (match := EN_RELATIVE_RE.search(text)):
        raw = match["count"]
        seconds = (int(raw) if raw.isdigit() else 1) * _EN_UNITS[match["unit"]]
    if seconds is None and (match := FA_RELATIVE_RE.search(text)):
        seconds = int(match["count"]) * _FA_UNITS[match["unit"]]
    if seconds is None and (match := YESTERDAY_RE.search(text)):
        seconds = (2 if match["before"] else 1) * _DAY_UNIT
    if seconds is None:
        return None
    try:
        moment = now - timedelta(seconds=seconds)
    except OverflowError:
        return None
    if moment.year < 1990:  # as for absolute dates: no archive page is that old
        return None
    if seconds >= _DAY_UNIT:
        return moment.date().isoformat()
    if seconds >= _MINUTE:
        moment = moment.replace(second=0)
    return _format_datetime(moment.replace(microsecond=0))


def parse_date_text(text: str, *, now: datetime | None = None, persian: bool = False) -> str | None:
    """Find a publication date in a short dateline/byline and return it as ISO 8601.

    Returns "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" when a time is written next to
    the date, with "+HH:MM" only when the text names the zone (UTC/GMT/Z/ت.غ →
    +00:00, مكة المكرمة → +03:00, explicit +0500). Gregorian month names of every
    Arabic region (and English/French), lunar Hijri and Solar Hijri dates are
    converted; an explicit Gregorian date wins over a Hijri one in the same text,
    the earliest wins among several of one kind. All-digit dates are day-first
    unless the middle number cannot be a month. A year below 1700 in an all-digit
    date is Solar Hijri when the text has Persian digits/letters/words, lunar Hijri
    when marked هـ, otherwise rejected. Dates without a year, impossible dates and
    years outside 1990..(now.year + 1, or 2100 without ``now``) give None.
    Relative datelines ("منذ ساعتين", "أمس", "3 hours ago") need ``now``; the result
    carries now's UTC offset when ``now`` is timezone-aware. ``persian`` (a Persian
    page) makes such years Solar Hijri without a Persian hint in the text itself.
    """
    if not text or not text.strip():
        return None
    raw = text[:MAX_TEXT_CHARS]
    normalized = normalize_arabic(raw)
    persian_hint = persian or bool(
        PERSIAN_DIGIT_RE.search(raw) or PERSIAN_LETTER_RE.search(raw) or _PERSIAN_WORD_RE.search(normalized)
    )
    hijri_hint = bool(_HIJRI_WORD_RE.search(normalized))
    max_year = now.year + 1 if now is not None else MAX_YEAR
    candidates = _find_dates(normalized, persian_hint, hijri_hint, max_year)
    if candidates:
        gregorian = [c for c in candidates if c.calendar == GREGORIAN]
        best = (gregorian or candidates)[0]
        return _format(best.day, _find_time(normalized, best))
    if now is not None:
        return _relative(normalized, now)
    return None


ISO_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def parse_iso_date(value: str, *, now: datetime | None = None, persian: bool = False) -> str | None:
    """Normalize a machine-readable date (JSON-LD, meta, <time datetime>) to ISO 8601.

    "2020-03-17T17:27" → "2020-03-17T17:27:00", "2024-03-08T10:40:21+0500" →
    "2024-03-08T10:40:21+05:00", "…Z" → "+00:00", "2025-03-14" stays. A value
    that is not ISO ("۱۳۹۹/۰۲/۲۱ - ۱۸:۵۹", an Arabic dateline), or whose
    year is below 1700 ("1399-01-12T10:20:00+04:30": Solar Hijri where
    ``persian``, as Persian CMSs write it), goes to parse_date_text().
    """
    if not value:
        return None
    stripped = value.strip()
    match = ISO_RE.fullmatch(stripped)
    if not match or int(match["year"]) < 1700:
        return parse_date_text(stripped, now=now, persian=persian)
    max_year = now.year + 1 if now is not None else MAX_YEAR
    try:
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
    if not MIN_YEAR <= day.year <= max_year:
        return None
    if match["hour"] is None:
        return day.isoformat()
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    tz = match["tz"]
    offset = None
    if tz:
        offset = "+00:00" if tz in ("Z", "z") else _parse_offset(tz)
        if offset is None:
            return None
    return _format(day, _Time(hour, minute, second, offset))


def utc_sort_key(published: str) -> str:
    """``published`` as it sorts in time: a date-time with a UTC offset (as pages give it, and as the
    archive keeps it) in UTC, so 2025-05-01T23:00:00-05:00 sorts after 2025-05-02T01:00:00+03:00. A date
    alone or a time without an offset sorts as written; what is not ISO 8601 sorts as written."""
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        return published
    if "T" not in published and " " not in published or moment.tzinfo is None:
        return published
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
