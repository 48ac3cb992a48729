"""Content fingerprints: equal for texts that differ only in spelling noise.

The hash runs over normalized word tokens, so tashkeel, tatweel, hamza and alef
variants, digits and punctuation do not make a copy look new.
"""

from __future__ import annotations

import hashlib

from pipelines.normalize import tokens


def content_hash(text: str) -> str:
    return hashlib.sha1(" ".join(tokens(text)).encode("utf-8")).hexdigest()
