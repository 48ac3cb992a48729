"""Fold the many ways one Arabic word can be typed into a single form for keys, dedup and search."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "normalize_arabic",
    "to_ascii_digits",
    "strip_tashkeel",
    "strip_invisible",
    "tokens",
    "light_stem",
    "collapse_space",
    "normalize_lines",
]

# Harakat and other combining marks (U+064B-U+065F), superscript alef (U+0670),
# Quranic annotation marks (U+0610-U+061A, U+06D6-U+06ED) and tatweel (U+0640).
TASHKEEL_RE = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")

# Zero-width and bidi control characters: soft hyphen, ZWSP, ZWNJ, ZWJ, LRM, RLM,
# ALM, LRE..RLO, word joiner, LRI..PDI, BOM.
INVISIBLE_RE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")

WHITESPACE_RE = re.compile(r"\s+")

# A token is a run of letters and digits; everything else (Arabic ، ؛ ؟ « », ASCII
# punctuation, symbols, underscore) separates tokens.
TOKEN_RE = re.compile(r"[^\W_]+")

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

# Letter folding applied after NFKC and mark removal.
# Decision: Persian kaf (ک U+06A9) and Farsi yeh (ی U+06CC) ARE folded to Arabic
# ك/ي, because Arabic pages typed on Persian keyboards use them and they must
# match the same key. The letters only Persian has (پ چ ژ گ) are kept as they are.
# Language detection works on the raw text, so this folding never hides Persian.
_LETTER_FOLD = {
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("آ"): "ا",
    ord("ٱ"): "ا",  # alef wasla U+0671
    ord("ٲ"): "ا",  # alef with wavy hamza above U+0672
    ord("ٳ"): "ا",  # alef with wavy hamza below U+0673
    ord("ى"): "ي",  # alef maqsura
    ord("ة"): "ه",  # ta marbuta
    ord("ؤ"): "و",
    ord("ئ"): "ي",
    ord("ک"): "ك",  # Persian kaf U+06A9
    ord("ی"): "ي",  # Farsi yeh U+06CC
}
_FOLD = {**_DIGITS, **_LETTER_FOLD}


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic (٠-٩) and Persian (۰-۹) digits with ASCII 0-9."""
    return text.translate(_DIGITS)


def strip_tashkeel(text: str) -> str:
    """Remove harakat, superscript alef, Quranic marks and tatweel; nothing else changes."""
    return TASHKEEL_RE.sub("", text)


def strip_invisible(text: str) -> str:
    """Remove zero-width characters and bidi direction marks."""
    return INVISIBLE_RE.sub("", text)


def normalize_arabic(text: str) -> str:
    """Return the matching form of ``text`` (keys, dedup, search). Idempotent.

    NFKC (presentation forms such as ﻻ become لا), invisible and bidi marks
    removed, tashkeel and tatweel removed, alef variants → ا, ى → ي, ة → ه,
    ؤ → و, ئ → ي, Persian ک/ی → ك/ي, Arabic-Indic and Persian digits → ASCII,
    Latin ``casefold()``, whitespace collapsed to single spaces and stripped.
    """
    if not text:
        return ""
    return collapse_space(_folded(text))


def normalize_lines(lines: list[str]) -> list[str]:
    """``[normalize_arabic(line) for line in lines]``, folded in one pass over the lines joined.

    A line break is a normalization boundary (NFKC neither composes nor reorders
    across it, and no step makes or removes one), so each line folds the same in
    the joined text: the C steps' per-call cost is paid once, not once a line.
    Lines that hold a line break themselves are folded one by one.
    """
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:  # no lines, or a line with a break of its own
        return [normalize_arabic(line) for line in lines]
    return [collapse_space(line) for line in _folded(joined).split("\n")]


def collapse_space(text: str) -> str:
    """``WHITESPACE_RE.sub(" ", text).strip()``, three to six times faster.

    Every whitespace character but " " fails str.isprintable(), so a printable
    text without a double space only needs the strip; str.split() splits on
    exactly the characters \\s matches.
    """
    if "  " not in text and text.isprintable():
        return text.strip()
    return " ".join(text.split())


def _folded(text: str) -> str:
    """normalize_arabic without the whitespace collapsing (tokens do not need it)."""
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE_RE.sub("", text)
    text = TASHKEEL_RE.sub("", text)
    text = _fold_letters(text).casefold()
    # casefold() can expand a few Latin letters; NFKC again keeps the result a fixed point.
    return unicodedata.normalize("NFKC", text)


_FOLD_PAIRS = tuple((chr(code), replacement) for code, replacement in _FOLD.items())


def _fold_letters(text: str) -> str:
    """``text.translate(_FOLD)``, 20 times faster on Arabic text: str.translate looks up
    every character in a dict, while str.replace scans in C and only for letters present.
    No replacement is itself a key, so the order of the replacements does not matter."""
    for char, replacement in _FOLD_PAIRS:
        if char in text:
            text = text.replace(char, replacement)
    return text


def tokens(text: str) -> list[str]:
    """Normalized word tokens: runs of letters/digits of ``normalize_arabic(text)``."""
    return TOKEN_RE.findall(_folded(text)) if text else []


def tokens_of_each(words: list[str]) -> list[list[str]]:
    """``[tokens(word) for word in words]``, folding them in one call.

    A search snippet folds each distinct word of 20 articles (thousands of words a page);
    each call to the folding steps costs about as much as folding a whole text. Joined by
    line breaks, which no folding step makes or removes, the words fold as one text; a word
    that holds a line break itself is folded on its own.
    """
    joined = "\n".join(words)
    if joined.count("\n") != len(words) - 1:
        return [tokens(word) for word in words]
    return [TOKEN_RE.findall(line) for line in _folded(joined).split("\n")] if words else []


# Definite-article groups, longest first. Each may be removed when at least
# _MIN_STEM_AFTER_ARTICLE letters remain.
_ARTICLE_PREFIXES = ("وبال", "وكال", "ولل", "فلل", "وال", "بال", "كال", "فال", "لل", "ال")
_MIN_STEM_AFTER_ARTICLE = 2
# Conjunction و / ف alone: removed only when at least 3 letters remain.
_CONJUNCTION_PREFIXES = ("و", "ف")
_MIN_STEM_AFTER_CONJUNCTION = 3
# The divine name is frequent in news (حزب الله، عبد الله) and would otherwise
# collapse to the pronoun له; its clitic forms all stem to الله.
_ALLAH_FORMS = frozenset({"الله", "والله", "بالله", "فالله", "تالله", "لله", "ولله", "فلله"})

# Suffixes tried once each, in this order (pronouns first, then plural/gender),
# each with the number of letters that must remain after removing it.
_SUFFIXES = (
    ("هما", 3),
    ("كما", 3),
    ("ها", 3),
    ("هم", 3),
    ("هن", 3),
    ("كم", 3),
    ("كن", 3),
    ("نا", 3),
    ("ات", 3),
    ("ون", 3),
    ("ين", 3),
    ("ان", 4),
    ("يه", 3),  # -ية after normalization
    ("ه", 3),  # pronoun -ه or ta marbuta ة after normalization
    ("ي", 3),
)


# Tanween fath is written on an alef (مؤتمراً، تهديداً); with the mark removed the
# alef stays (موتمرا). A final alef is removed when no suffix was and >= 3 letters
# remain, so تهديد، تهديداً and تهديدا index and query alike. Not after ه: -ها is
# the pronoun (منها stays منها, not منه).
_TANWEEN_ALEF = "ا"
_MIN_STEM_AFTER_TANWEEN = 3


def light_stem(token: str) -> str:
    """Light Arabic stemmer for search; ``token`` must already be normalized.

    Prefixes: one definite-article group (وبال وكال ولل فلل وال بال كال فال لل ال)
    is removed when ≥ 2 letters remain; otherwise a leading conjunction و/ف is
    removed when ≥ 3 letters remain. So والارهاب، للارهاب، بالارهاب، الارهاب،
    وارهاب and ارهاب all give ارهاب.

    Suffixes: each of هما كما ها هم هن كم كن نا ات ون ين ان يه ه ي is tried once, in
    that order, keeping ≥ 3 letters (≥ 4 for ان, so لبنان/ايران/عمان stay whole).

    Tanween: a final alef (the seat of tanween fath, مؤتمراً → موتمرا) is removed
    when no suffix was and ≥ 3 letters remain, so مؤتمراً finds مؤتمر and back.
    Nouns that end in a long alef lose it too (امريكا → امريك، سوريا → سوري);
    query and index agree, so this only conflates a country with its adjective.

    Precision trade-offs (deliberate):
    - The single-letter prepositions ب ل ك are NOT removed on their own: they
      collide with the first root letter of very frequent news words (بغداد،
      بريطانيا، لبنان، ليبيا، كوريا، كتاب), so بفلسطين does not match فلسطين.
      Their compound forms with the article (بال، لل، كال) are removed.
    - و/ف alone are removed (light10 style), which truncates words that really
      start with them (وزير → زير, فلسطين → لسطين). Every form is stemmed the
      same way, so index and query still agree; only rare collisions arise.
    - Suffix removal conflates related words (مدرسه/مدرس، ارهابي/ارهاب) and
      a few unrelated ones (كورونا → كورو). The forms of الله (والله، بالله، لله)
      all give الله instead of collapsing to له. Tokens shorter than 3 letters are
      returned unchanged; digits and Latin tokens pass through untouched.
    """
    word = token
    if len(word) < 3:
        return word
    if word in _ALLAH_FORMS:
        return "الله"
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM_AFTER_ARTICLE:
            word = word[len(prefix) :]
            break
    else:
        for prefix in _CONJUNCTION_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM_AFTER_CONJUNCTION:
                word = word[len(prefix) :]
                break
    stripped = False
    for suffix, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: -len(suffix)]
            stripped = True
    if not stripped and word.endswith(_TANWEEN_ALEF) and len(word) > _MIN_STEM_AFTER_TANWEEN and word[-2] != "ه":
        word = word[:-1]
    return word
