"""MinHash signatures of word shingles: what a near-duplicate check compares.

A text's signature is a datasketch MinHash (NUM_PERM values, scheme "affine32")
over shingles of SHINGLE_WORDS consecutive tokens of ``normalize.tokens(text)``,
so tashkeel, tatweel, hamza and alef forms, digits and punctuation (Arabic
، ؛ ؟ included) never make a copy look new. The values are computed here with
datasketch's own formula (sha1_hash32, the MurmurHash3 finalizer, odd affine
permutations from ``RandomState(SEED)``) on numpy alone: importing datasketch
imports scipy (~45 MB in every process that does it, the crawl's reactor and
each extraction worker). tests/test_near_duplicates.py checks the values equal
datasketch's. This module imports nothing but numpy and the normalizer, so the
extraction worker computes signatures without loading the index's SQLite code;
the index itself is pipelines/similarity/near_duplicates.py. A signature also
carries its shingles' 32-bit hashes (sorted, distinct): the MinHash estimate
only proposes, ``Signature.jaccard`` on those hashes decides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from pipelines.text.normalize import tokens

NUM_PERM = 128
BANDS, ROWS = 32, 4
SHINGLE_WORDS = 3
SEED = 1
SCHEME = "affine32"

_DTYPE = np.dtype("<u4")
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # datasketch's initial values (the maximum hash)


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations h → a·h + b (mod 2^32), a odd, drawn from RandomState(seed)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_A, _B = _permutations(NUM_PERM, SEED)


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, datasketch's pre-mix before the permutations."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def minhash_values(grams) -> np.ndarray:
    """MinHash values of a set of strings: datasketch's MinHash(num_perm, seed, "affine32").update_batch."""
    return _minhash_of_encoded([gram.encode("utf-8") for gram in grams])


def _minhash_of_encoded(grams) -> np.ndarray:
    """``minhash_values`` of strings already encoded as UTF-8 (datasketch hashes the encoded bytes)."""
    return _minhash_of_hashes(_shingle_hashes(grams))


def _shingle_hashes(grams) -> np.ndarray:
    """Each shingle's sha1_hash32 (datasketch's input hash), sorted and distinct, as uint32."""
    if not grams:
        return np.empty(0, dtype=np.uint32)
    digests = b"".join([hashlib.sha1(gram).digest() for gram in grams])
    # each 20-byte digest's first 4 bytes (sha1_hash32), read in place: every 5th little-endian uint32
    return np.unique(np.frombuffer(digests, dtype=_DTYPE)[::5].astype(np.uint32))


def _minhash_of_hashes(hashes: np.ndarray) -> np.ndarray:
    if not len(hashes):
        return _EMPTY.copy()
    hv = _fmix32(hashes.reshape(-1, 1))
    return (hv * _A + _B).min(axis=0)


@dataclass(frozen=True)
class Signature:
    values: np.ndarray  # NUM_PERM uint32
    shingles: int  # distinct shingles hashed (0: empty text)
    bands: tuple[int, ...] | None = field(default=None, compare=False)  # band_keys(values), once known
    hashes: np.ndarray | None = field(default=None, compare=False)  # the shingles' sorted uint32 hashes

    def similarity(self, other: Signature) -> float:
        """Estimated Jaccard similarity (datasketch's MinHash.jaccard): proposes, never decides."""
        return float(np.count_nonzero(self.values == other.values)) / NUM_PERM

    def jaccard(self, other: Signature) -> float:
        """Jaccard similarity of the two shingle sets, counted exactly on their 32-bit hashes.

        Two different shingles share a hash with probability 2^-32: for texts of a
        thousand shingles each, one such collision in about 4,000 pairs, and it moves
        the value by 1/|A ∪ B| at most. Both signatures must carry their hashes.
        """
        if self.hashes is None or other.hashes is None:
            raise ValueError("exact Jaccard needs the shingle hashes of both texts")
        union = len(self.hashes) + len(other.hashes)
        if not union:
            return 0.0
        common = len(np.intersect1d(self.hashes, other.hashes, assume_unique=True))
        return common / (union - common)

    def hashes_bytes(self) -> bytes:
        return b"" if self.hashes is None else self.hashes.astype(_DTYPE, copy=False).tobytes()

    def band_keys(self) -> tuple[int, ...]:
        """The LSH band keys, computed once (the extraction worker computes them with the signature)."""
        if self.bands is None:
            object.__setattr__(self, "bands", tuple(band_keys(self.values)))
        return self.bands

    def to_bytes(self) -> bytes:
        return self.values.astype(_DTYPE, copy=False).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, shingles: int = 0, bands: tuple[int, ...] | None = None,
                   hashes: bytes | None = None) -> Signature:
        return cls(np.frombuffer(data, dtype=_DTYPE).astype(np.uint32), shingles, bands,
                   None if hashes is None else np.frombuffer(hashes, dtype=_DTYPE).astype(np.uint32))


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Distinct runs of ``size`` normalized tokens (the whole text when shorter)."""
    return shingles_of(tokens(text), size)


def shingles_of(words: list[str], size: int = SHINGLE_WORDS) -> set[str]:
    """``shingles`` of a text already split into ``normalize.tokens``."""
    return _runs(words, size, " ")


def _runs(words: list, size: int, space):
    """The distinct runs of ``size`` words joined by ``space`` (str or bytes), the whole list when shorter."""
    if len(words) <= size:
        return {space.join(words)} if words else set()
    return set(map(space.join, zip(*(words[i:] for i in range(size)))))  # words[i : i + size], joined in C


def signature(text: str) -> Signature:
    """The MinHash signature of a text's shingles."""
    return signature_of(tokens(text))


def signature_of(words: list[str]) -> Signature:
    """``signature`` of a text already split into ``normalize.tokens``.

    The shingles are made of the words' UTF-8 bytes, encoded in one call for the
    whole text rather than once a shingle: the same set, hashed as datasketch does.
    """
    encoded = " ".join(words).encode("utf-8").split(b" ") if words else []
    if len(encoded) != len(words):  # a word with a space in it: not a token, encode word by word
        encoded = [word.encode("utf-8") for word in words]
    hashes = _shingle_hashes(_runs(encoded, SHINGLE_WORDS, b" "))
    return Signature(_minhash_of_hashes(hashes), len(hashes), hashes=hashes)


def band_keys(values: np.ndarray) -> list[int]:
    """One signed 64-bit key per band: a hash of the band number and its values."""
    data = values.astype(_DTYPE, copy=False).tobytes()
    width = ROWS * 4
    return [
        int.from_bytes(
            hashlib.blake2b(data[band * width : (band + 1) * width], digest_size=8, person=band.to_bytes(2, "little")).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]
