"""The extraction's safety net: when to look at the unpruned page again, and which body is better.

Pruning guesses: a block whose class reads as boilerplate, a list of links, a
per-source selector may hold the article itself. prune_boilerplate counts the
prose texts its guessing rules removed; a page is suspicious where they removed
some and the body came out short or thin. Only then does extraction run
trafilatura on the unpruned page (pipelines/extraction/article.py), and it keeps
that body when it is better: over twice the words, with paragraphs one after
another, not a short page's tag line and footer.
"""

from __future__ import annotations

import re

from pipelines.text.boilerplate import PROSE_CHARS, SHORT_PROSE_CHARS, SHORT_PROSE_WEIGHT

# Pruning's guessing rules removing at least this many paragraphs of prose (boilerplate.PROSE_CHARS)
# makes a page whose body is short, or holds less prose, suspicious; trafilatura's body of the
# unpruned page is kept when it has this much more prose (and over twice the words).
SUSPICIOUS_PROSE = 2
MIN_BODY_RUN = 3  # paragraphs in a row that make a body (two may be a tag line and a notice)
AD_LINE_CHARS = 12  # "إعلان", "Advertisement": a line between two paragraphs that leaves them one body
_WORD_RE = re.compile(r"\w+")


def words_in(text: str) -> int:
    return len(_WORD_RE.findall(text))


def suspicious(words: int, lines: list[str], pruned_prose: float, min_words: int) -> bool:
    """The body may have been lost: the guessing rules of pruning removed prose (at least
    SUSPICIOUS_PROSE paragraphs), and the body is too short for an article or holds less prose.

    Only these pages pay for a second trafilatura pass (article._unpruned_body).
    """
    if pruned_prose < SUSPICIOUS_PROSE:
        return False
    return words < min_words or pruned_prose > prose_lines(lines)


def _weight(line: str) -> float:
    """A line's prose, in paragraphs, as pruning counts text nodes (boilerplate.PROSE_CHARS)."""
    size = len(line.strip())
    return 1.0 if size > PROSE_CHARS else SHORT_PROSE_WEIGHT if size > SHORT_PROSE_CHARS else 0.0


def prose_lines(lines) -> float:
    return sum(map(_weight, lines))


def prose_run(lines) -> float:
    """The most prose in consecutive lines. A very short line ("إعلان") after a paragraph does not
    end a run; after a short line it does ("زائر" between one-line comments)."""
    best = run = last = 0.0
    for line in lines:
        weight = _weight(line)
        if weight:
            run += weight
            best = max(best, run)
        elif line.strip() and (len(line.strip()) > AD_LINE_CHARS or last < 1):
            run = 0.0
        last = weight if weight or line.strip() else last
    return best


def better_body(text: str, words: int, prose: float) -> bool:
    """Over twice the words, and paragraphs among them, one after the other: a body, not a short
    page's tag line, teasers and footer, each standing alone between short lines."""
    lines = text.splitlines()
    return (
        words_in(text) > 2 * words
        and prose_lines(lines) >= prose + SUSPICIOUS_PROSE
        and prose_run(lines) >= MIN_BODY_RUN - 1e-9  # three thirds make one
    )
