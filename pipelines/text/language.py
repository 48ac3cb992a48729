"""Tell Arabic from Persian, Urdu and the rest so only Arabic articles are archived as Arabic."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

from .normalize import strip_tashkeel

__all__ = ["ARABIC_SCRIPT_RE", "arabic_script_ratio", "detect_language"]

DetectorFactory.seed = 0  # langdetect is random without a seed

# The langdetect profiles loaded: all 55 take ~60 MB per process, these 16 ~7 MB.
# Every Arabic-script language langdetect knows (ar fa ur), the languages of the
# other editions of Arab and international newsrooms (en fr es de it pt nl, tr for
# Anadolu/TRT, ru for RT/Sputnik, zh-cn for CGTN/Xinhua, id), and the scripts an
# Arabic site quotes or links (he, hi beside Urdu). A page in another language is
# still never Arabic: it gets the nearest of these, or "und" in an unloaded script.
PROFILES = ("ar", "fa", "ur", "en", "fr", "es", "de", "it", "pt", "nl", "tr", "ru", "zh-cn", "id", "he", "hi")
# The scripts they write, as the first word of a letter's Unicode name.
PROFILE_SCRIPTS = frozenset({"ARABIC", "LATIN", "CYRILLIC", "HEBREW", "DEVANAGARI", "CJK"})

# Only the start of a text is read: enough to decide, bounded cost.
SAMPLE_CHARS = 2000

ARABIC_SCRIPT_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
PERSIAN_DIGIT_RE = re.compile("[۰-۹]")

# Letters that Arabic does not use, per language, checked in this order. Urdu
# shares پ چ ژ گ ک ی with Persian, so the Urdu-only letters decide first; the
# Kurdish, Pashto and Sindhi sets only keep those languages from being called
# Arabic or Persian.
SCRIPT_LANGUAGES: tuple[tuple[str, frozenset[str]], ...] = (
    ("ku", frozenset("ڕڵۆێە")),  # Sorani Kurdish
    ("ps", frozenset("ټډړښږځڅګڼۍې")),  # Pashto
    ("sd", frozenset("ڄڃٺٽٿڀڦڪڳڱڙڌڏڍڊ")),  # Sindhi
    ("ur", frozenset("ٹڈڑںےھۂۃہ")),
    ("fa", frozenset("پچژگکی")),  # the last two are Persian kaf/yeh (U+06A9, U+06CC)
)
NON_ARABIC_LETTERS = frozenset().union(*(letters for _, letters in SCRIPT_LANGUAGES))
STRONG_PERSIAN_LETTERS = frozenset("پچژگ")
# Code points only Arabic orthography uses among these languages: ة, ى, Arabic yeh ي and kaf ك.
ARABIC_ONLY_LETTERS = frozenset("ةىيك")
# A word with the Arabic article: ال، وال، بال، فال، كال، لل at its start.
ARABIC_ARTICLE_RE = re.compile(r"(?<![^\W\d_])(?:[وفبك]?ال|لل)[^\W\d_]{2,}")
_PERSIAN_FOLD = str.maketrans({"ی": "ي", "ک": "ك"})
_WORD_RE = re.compile(r"[^\W\d_]+")
# Arabic words Persian and Urdu do not use (checked after folding ی/ک to ي/ك).
ARABIC_FUNCTION_WORDS = frozenset(
    "إلى الى إلي الي عن التي الذي الذين هذا هذه أن إن قال قالت كان كانت وقال لم لن".split()
)

# Share of letters that must be Arabic-script for the script rules to apply.
ARABIC_SCRIPT_MAJORITY = 0.5
# Fast path: at least this share of letters Arabic-script, no letter Arabic lacks.
FAST_PATH_MIN_RATIO = 0.8
# A non-Arabic letter set decides when it is ≥ 1% of the Arabic-script letters
# and more frequent than half the Arabic-only letters (so one Persian name in an
# Arabic text does not flip it).
SCRIPT_RULE_MIN_SHARE = 0.01
FAST_PATH_PROBABILITY = 0.99
SCRIPT_RULE_PROBABILITY = 0.95
_UNDETERMINED = ("und", 0.0)
# The letters (str.isalpha) among ARABIC_SCRIPT_RE's code points, so counting them is one C-level pass.
_ARABIC_SCRIPT_LETTERS = frozenset(
    ch for ch in map(chr, (*range(0x0600, 0x0900), *range(0xFB50, 0xFF00))) if ch.isalpha() and ARABIC_SCRIPT_RE.match(ch)
)


# Per code point of the BMP: 1 a letter (str.isalpha), 3 an Arabic-script letter, 0 neither.
_LETTER_CLASS = np.fromiter(map(str.isalpha, map(chr, range(0x10000))), dtype=np.uint8, count=0x10000)
_LETTER_CLASS[[ord(ch) for ch in _ARABIC_SCRIPT_LETTERS]] = 3
# NON_ARABIC_LETTERS.isdisjoint(text), as a regex: a scan in C, not one 1-char string per character.
_NON_ARABIC_LETTER_RE = re.compile("[" + re.escape("".join(sorted(NON_ARABIC_LETTERS))) + "]")


def _letter_counts(text: str) -> tuple[int, int]:
    """(letters, Arabic-script letters) of ``text``: a table lookup per code point, in numpy."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if codes.size and codes.max() > 0xFFFF:  # beyond the table (emoji, math letters): count in Python
        return sum(map(str.isalpha, text)), sum(map(_ARABIC_SCRIPT_LETTERS.__contains__, text))
    classes = np.bincount(_LETTER_CLASS[codes], minlength=4)
    return int(classes[1] + classes[3]), int(classes[3])


def arabic_script_ratio(text: str) -> float:
    """Share of letters (``str.isalpha``) in ``text`` that are Arabic-script; 0.0 without letters."""
    letters, arabic = _letter_counts(text)
    return arabic / letters if letters else 0.0


@lru_cache(maxsize=1)
def _detector_factory() -> DetectorFactory:
    """langdetect with only PROFILES loaded (read once per process, on the first foreign text)."""
    factory = DetectorFactory()
    factory.load_json_profile([(Path(PROFILES_DIRECTORY) / code).read_text(encoding="utf-8") for code in PROFILES])
    factory.set_seed(0)
    return factory


def _langdetect(text: str) -> list[tuple[str, float]]:
    """langdetect with a fresh detector per call (as detect_langs does), seeded, best first."""
    try:
        detector = _detector_factory().create()
        detector.append(text)
        results = detector.get_probabilities()
    except LangDetectException:
        return []
    return [(r.lang.split("-")[0], r.prob) for r in results]


def _unknown_letters(text: str) -> int:
    """Letters in a script none of PROFILES writes (Greek, Thai, Hangul …): langdetect cannot weigh them."""
    return sum(1 for ch in text if ch.isalpha() and unicodedata.name(ch, "?").split(" ", 1)[0] not in PROFILE_SCRIPTS)


def _script_rule(text: str, arabic_letters: int) -> str | None:
    """ur/fa/ku/ps/sd from letters Arabic does not use, or None when they do not decide."""
    if not arabic_letters:
        return None
    arabic_only = sum(map(ARABIC_ONLY_LETTERS.__contains__, text))
    for code, letters in SCRIPT_LANGUAGES:
        count = sum(map(letters.__contains__, text))
        if code == "fa":
            count += len(PERSIAN_DIGIT_RE.findall(text))
        if count and count / arabic_letters >= SCRIPT_RULE_MIN_SHARE and count > arabic_only / 2:
            return code
    return None


def _is_arabic_on_persian_keyboard(text: str) -> bool:
    """Arabic typed with Persian ی/ک: no پ چ ژ گ, a ة, an Arabic function word, and langdetect agrees once folded.

    Persian itself uses ال in loan phrases (بین‌الملل، البرز) and rarely ة, so the
    article alone is not evidence; Arabic function words that Persian lacks are.
    """
    if "ة" not in text or not STRONG_PERSIAN_LETTERS.isdisjoint(text):
        return False
    folded = text.translate(_PERSIAN_FOLD)
    if not any(word in ARABIC_FUNCTION_WORDS for word in _WORD_RE.findall(folded)):
        return False
    ranked = _langdetect(folded)
    return bool(ranked) and ranked[0][0] == "ar" and ranked[0][1] >= 0.9


def _is_plain_arabic(text: str, ratio: float) -> bool:
    return (
        ratio >= FAST_PATH_MIN_RATIO
        and _NON_ARABIC_LETTER_RE.search(text) is None
        and not PERSIAN_DIGIT_RE.search(text)
        and ("ة" in text or ARABIC_ARTICLE_RE.search(text) is not None)
    )


def _arabic_script_only(text: str) -> str:
    return "".join(ch if ARABIC_SCRIPT_RE.match(ch) or not ch.isalpha() else " " for ch in text)


def detect_language(text: str) -> tuple[str, float]:
    """Return (ISO 639-1 code, probability) for ``text`` (article body, maybe with title).

    Reads the first ``SAMPLE_CHARS`` characters. Deterministic. Persian, Urdu
    (and Kurdish, Pashto, Sindhi) are never labelled Arabic:
    1. plainly Arabic text (≥ 80% Arabic-script letters, no letter Arabic lacks,
       ة or an ال-word present) → ("ar", 0.99) without calling langdetect;
    2. mostly Arabic-script text with letters Arabic lacks → "ur" for Urdu-only
       letters (ٹ ڈ ڑ ں ے ھ ۂ ۃ ہ), else "fa" for Persian letters/digits
       (پ چ ژ گ ک ی ۰-۹), probability 0.95, when they are ≥ 1% of the
       Arabic-script letters and outnumber half the Arabic-only ة ى ي ك — except
       Arabic typed on a Persian keyboard (only ی/ک, plus ة, an Arabic function
       word, and langdetect calling the folded text Arabic);
    3. otherwise langdetect (with the PROFILES languages); a mostly Arabic-script
       text is kept to ar/fa/ur, and a text mostly in a script none of them
       writes is never "ar".
    Empty or letterless text → ("und", 0.0).
    """
    # NFKC turns presentation forms (ﺍﻟﺴﻼﻡ) into letters; marks and tatweel only split words.
    sample = strip_tashkeel(unicodedata.normalize("NFKC", (text or "")[:SAMPLE_CHARS]))
    letters, arabic = _letter_counts(sample)
    if not letters:
        return _UNDETERMINED
    ratio = arabic / letters
    if _is_plain_arabic(sample, ratio):
        return ("ar", FAST_PATH_PROBABILITY)

    if ratio >= ARABIC_SCRIPT_MAJORITY:
        code = _script_rule(sample, arabic)
        if code == "fa" and _is_arabic_on_persian_keyboard(sample):
            return ("ar", SCRIPT_RULE_PROBABILITY)
        if code:
            return (code, SCRIPT_RULE_PROBABILITY)
        ranked = _langdetect(sample)
        if not ranked or ranked[0][0] not in ("ar", "fa", "ur"):
            # Mixed text whose Latin part outweighs in n-grams: decide on the Arabic-script part.
            ranked = [r for r in _langdetect(_arabic_script_only(sample)) if r[0] in ("ar", "fa", "ur")]
        return ranked[0] if ranked else ("ar", SCRIPT_RULE_PROBABILITY)

    ranked = _langdetect(sample)
    if not ranked:
        return _UNDETERMINED
    code, prob = ranked[0]
    if code == "ar":
        if _unknown_letters(sample) > arabic:
            # Greek or Thai quoting an Arabic name: langdetect only saw the Arabic letters.
            return _UNDETERMINED
        # A mostly non-Arabic-script text that langdetect calls Arabic: still never Persian/Urdu as ar.
        code = _script_rule(_arabic_script_only(sample), arabic) or code
    return (code, prob)
