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

from pipelines.text.boilerplate import PROSE_CHARS

# Pruning's guessing rules removing at least this many prose texts (over PROSE_CHARS characters)
# makes a page whose body is short, or holds fewer prose lines, suspicious; trafilatura's body of
# the unpruned page is kept when it has this many more prose lines (and over twice the words).
SUSPICIOUS_PROSE = 2
MIN_BODY_RUN = 3  # paragraphs in a row that make a body (two may be a tag line and a notice)
AD_LINE_CHARS = 12  # "إعلان", "Advertisement": a line between two paragraphs that leaves them one body
_WORD_RE = re.compile(r"\w+")


def words_in(text: str) -> int:
    return len(_WORD_RE.findall(text))


def suspicious(words: int, lines: list[str], pruned_prose: int, min_words: int) -> bool:
    """The body may have been lost: the guessing rules of pruning removed prose (at least
    SUSPICIOUS_PROSE texts), and the body is too short for an article or holds fewer prose lines.

    Only these pages pay for a second trafilatura pass (article._unpruned_body).
    """
    if pruned_prose < SUSPICIOUS_PROSE:
        return False
    return words < min_words or pruned_prose > prose_lines(lines)


def prose_lines(lines) -> int:
    return sum(len(line) > PROSE_CHARS for line in lines)


def prose_run(lines) -> int:
    """The most prose lines in a row; a blank or very short line between two ("إعلان") does not end a run."""
    best = run = 0
    for line in lines:
        if len(line) > PROSE_CHARS:
            run += 1
            best = max(best, run)
        elif len(line.strip()) > AD_LINE_CHARS:
            run = 0
    return best


def better_body(text: str, words: int, prose: int) -> bool:
    """Over twice the words, and paragraphs among them, one after the other: a body, not a short
    page's tag line, teasers and footer, each standing alone between short lines."""
    lines = text.splitlines()
    return (
        words_in(text) > 2 * words
        and prose_lines(lines) >= prose + SUSPICIOUS_PROSE
        and prose_run(lines) >= MIN_BODY_RUN
    )
