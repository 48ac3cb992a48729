"""Exact Jaccard similarities behind the threshold: copies against their original, and the closest other story.

    python bench/dedup/similarity.py [--docs 20000] [--sample 2000]

Word 3-shingles of the normalized tokens, as pipelines/similarity/near_duplicates.py uses,
but exact sets instead of MinHash estimates.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parents[1]))
sys.path.insert(0, str(BENCH_DIR))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def main(argv: list[str] | None = None) -> int:
    from run import corpus_path

    from pipelines.similarity.near_duplicates import shingles

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--sample", type=int, default=2000, help="documents whose closest other story is searched")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    docs = [json.loads(line) for line in corpus_path(args.docs, args.seed).open(encoding="utf-8")][: args.docs]
    sets = [shingles(doc["text"]) for doc in docs]
    first = {}
    for i, doc in enumerate(docs):
        if doc["role"] != "copy":
            first.setdefault(doc["story"], i)
    copies: dict[str, list[float]] = defaultdict(list)
    for i, doc in enumerate(docs):
        if doc["role"] == "copy":
            similarity = jaccard(sets[i], sets[first[doc["story"]]])
            copies["all copies"].append(similarity)
            for mutation in doc["mutations"]:
                copies[mutation].append(similarity)
    postings = defaultdict(list)
    for i, grams in enumerate(sets):
        for gram in grams:
            postings[gram].append(i)
    closest = []
    for i in random.Random(1).sample(range(len(docs)), min(args.sample, len(docs))):
        shared: Counter = Counter()
        for gram in sets[i]:
            if len(postings[gram]) < 2000:  # stock phrases: in thousands of documents, decide nothing
                shared.update(j for j in postings[gram] if docs[j]["story"] != docs[i]["story"])
        closest.append(max((jaccard(sets[i], sets[j]) for j, _ in shared.most_common(5)), default=0.0))
    print("copy against its original (exact Jaccard of word 3-shingles)")
    for name, values in sorted(copies.items()):
        print(f"  {name:16s} n={len(values):5d} min={min(values):.3f} p1={quantile(values, .01):.3f} "
              f"p5={quantile(values, .05):.3f} median={quantile(values, .5):.3f}")
    print(f"closest document of another story, {len(closest)} documents: max={max(closest):.3f} "
          f"p99={quantile(closest, .99):.3f} median={quantile(closest, .5):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
