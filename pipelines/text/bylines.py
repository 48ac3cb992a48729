"""Read a byline's name, tell a news agency from a person, and split a dateline's name from its date."""

from __future__ import annotations

import re

from pipelines.text.dates import MONTHS, parse_date_text
from pipelines.text.normalize import collapse_space, normalize_arabic, tokens

__all__ = ["byline_name", "dateline_names", "is_agency", "labelled_name"]

# "بقلم: …", "كتبت …", "إعداد / …": a label, then the name. Longer labels first, and a label ends
# at a space or a mark, so "كتبت: ليلى" is not read as "كتب" + "ت: ليلى".
_LABELS = ("بقلم", "كتبت", "كتب", "الكاتب", "المحرر", "تحرير", "إعداد", "اعداد", "By")
_BYLINE_RE = re.compile(
    r"^\s*(?:" + "|".join(_LABELS) + r")(?=[\s:：\-–/|]|$)\s*[:：\-–/|]?\s*(.{2,60}?)\s*$"
)
_SOURCE_RE = re.compile(r"^\s*(?:المصدر|مصدر|وكالة)\s*[:：\-–/]\s*(.{2,60}?)\s*$")
_DIGIT_RE = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")
# The separators of a dateline block: "<name> - <date>", "<name> | <date>", "<date> - <name>".
_DATELINE_SPLIT_RE = re.compile(r"\s+[-–—|/]\s+|\s*[|•]\s*")
MAX_BYLINE_CHARS = 70
MAX_NAME_WORDS = 5
# Words of a dateline that are not a name: labels, weekdays, relative times, counters.
_NOT_NAME_WORDS = frozenset(
    normalize_arabic(word)
    for word in (
        "نشر نشرت منشور تاريخ النشر تحديث التحديث آخر اخر منذ الساعة ساعة بتوقيت اليوم أمس امس مضت "
        "الأحد الإثنين الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت "
        "شنبه یکشنبه دوشنبه سه‌شنبه چهارشنبه پنجشنبه پنج‌شنبه جمعه "
        "مشاهدة مشاهدات قراءة قراءات تعليق تعليقات "
        "published updated posted ago views comments read"
    ).split()
)

# News agencies and the plural "agencies": credited as the source, never as the author.
# Compared as normalize_arabic token sequences, so أ ف ب, أ.ف.ب and ا ف ب are one.
_AGENCIES = (
    "وكالات", "وكالات الأنباء", "رويترز", "أ ف ب", "أ ش أ", "فرانس برس", "الأناضول", "د ب أ", "أسوشيتد برس",
    "أ ب", "شينخوا", "سبوتنيك", "واس", "كونا", "وام", "بترا", "قنا", "سانا", "واع", "بنا", "العمانية",
    "الأنباء الألمانية", "الأنباء الفرنسية", "Reuters", "AFP", "AP", "Anadolu", "dpa", "Xinhua",
)
_AGENCY_TOKENS = {tuple(tokens(name)) for name in _AGENCIES}
_AGENCY_FIRST_WORDS = {tokens("وكالة")[0], tokens("وكالات")[0]}
_AGENCY_JOINERS = re.compile(r"\s*(?:[،,+/]|\sو)\s*")


def is_agency(name: str | None) -> bool:
    """"رويترز", "أ.ف.ب", "وكالة الأناضول", "وكالات", "رويترز، أ ف ب": a news agency, not a person."""
    words = tokens(name or "")
    if not words:
        return False
    if words[0] in _AGENCY_FIRST_WORDS or tuple(words) in _AGENCY_TOKENS:
        return True
    parts = [tuple(tokens(part)) for part in _AGENCY_JOINERS.split(name) if part.strip()]
    return len(parts) > 1 and all(part in _AGENCY_TOKENS for part in parts)


def labelled_name(text: str | None) -> str | None:
    """The name after a byline label ("بقلم: …", "كتب …", "المصدر: …") in a short text, or None."""
    text = collapse_space(text or "")
    if not text or len(text) > MAX_BYLINE_CHARS:
        return None
    match = _BYLINE_RE.match(text) or _SOURCE_RE.match(text)
    return collapse_space(match.group(1)) if match else None


def byline_name(text: str | None) -> str | None:
    """A person or agency name from a byline text (labelled, or a short text without digits), or None."""
    name = labelled_name(text)
    if name:
        return name
    text = collapse_space(text or "")
    if text and len(text) <= MAX_BYLINE_CHARS and 1 <= len(text.split()) <= MAX_NAME_WORDS and not _DIGIT_RE.search(text):
        return text
    return None


def dateline_names(text: str | None, now=None) -> list[str]:
    """The names beside the date in one dateline text: "مراسل الشبكة - 17 مارس 2018 16:00" → ["مراسل الشبكة"].

    The text is split at " - ", " | ", " / ", "•"; a part that parses as a date
    (or holds a digit: the time) is the date's, a short part of two to
    MAX_NAME_WORDS words (one for an agency) without a label, weekday or month
    word is a name. Nothing when no part is a date.
    """
    text = collapse_space(text or "")
    if not text or len(text) > MAX_BYLINE_CHARS * 2:
        return []
    parts = [part.strip() for part in _DATELINE_SPLIT_RE.split(text) if part.strip()]
    if len(parts) < 2:
        return []
    dated = [bool(_DIGIT_RE.search(part)) and parse_date_text(part, now=now) is not None for part in parts]
    if not any(dated):
        return []
    names = []
    for part, is_date in zip(parts, dated):
        if is_date or _DIGIT_RE.search(part):
            continue
        name = labelled_name(part) or (part if 1 <= len(part.split()) <= MAX_NAME_WORDS else None)
        if name and _may_be_name(name):
            names.append(name)
    return names


def _may_be_name(name: str) -> bool:
    """A person has two words or more ("القاهرة - 17 مارس" names a city); an agency may have one;
    no label, weekday, month or counter word is a name."""
    words = normalize_arabic(name).split()
    if any(word in _NOT_NAME_WORDS or word in MONTHS for word in words):
        return False
    return len(words) >= 2 or is_agency(name)
