"""Content fingerprints: equal for texts that differ only in spelling noise.

The hash runs over normalized word tokens, so tashkeel, tatweel, hamza and alef
variants, digits and punctuation do not make a copy look new.
"""

from __future__ import annotations

import hashlib

from pipelines.text.normalize import tokens


def content_hash(text: str) -> str:
    return tokens_hash(tokens(text))


def tokens_hash(words: list[str]) -> str:
    """``content_hash`` of a text already split into ``normalize.tokens``."""
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()
