"""Why unrelated articles end in one story: direct wrong pairs, or chains of them (hard.py's corpus, in memory).

    python bench/dedup/chains.py --docs 50000       # about 2 minutes of CPU, 1 GB

Computes every pair LSH proposes among the first ``--docs`` documents of hard.py's
corpus, keeps those at exact Jaccard >= the threshold (the verified pairs), and
reports, over pairs of documents as hard.py counts them:

- **components**: stories as connected components of all verified pairs (the
  decision before the template guard): how many verified pairs join documents of
  different stories (**wrong direct**) and how many wrong pairs the components make;
- **1-NN**: each document linked to its single most similar verified document only;
- **guard**: the production rule (pipelines/similarity/near_duplicates.py): a verified
  pair also shares MIN_DISTINCT_SHARED sampled shingles that are not template, the
  template being the sampled shingles in COMMON_ARTICLES documents of the earlier runs
  (a run every ``--run-docs`` documents, as hard.py). LSH bucket capping is not
  simulated here (hard.py measures it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parents[1]))
sys.path.insert(0, str(BENCH_DIR))


def verified_pairs(hashes: list, sigs: list, threshold: float) -> dict[tuple[int, int], float]:
    buckets = defaultdict(list)
    for n, sig in enumerate(sigs):
        for key in sig.band_keys():
            buckets[key].append(n)
    proposed = {(members[i], members[j]) for members in buckets.values()
                for i in range(len(members)) for j in range(i + 1, len(members))}
    pairs = {}
    for a, b in proposed:
        similarity = sigs[a].jaccard(sigs[b])
        if similarity >= threshold:
            pairs[(a, b)] = similarity
    return pairs


def score(pairs, stories: list[int], name: str) -> None:
    parent = list(range(len(stories)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    component = [find(n) for n in range(len(stories))]
    def count(groups):
        return sum(n * (n - 1) // 2 for n in groups.values())
    right = count(Counter(zip(component, stories)))
    said, real = count(Counter(component)), count(Counter(stories))
    wrong_direct = sum(stories[a] != stories[b] for a, b in pairs)
    print(f"{name:<44} pairs {len(pairs):>7}  wrong direct {wrong_direct:>4}  precision {right / said:.4f}  "
          f"recall {right / real:.4f}  wrong pairs {said - right}")


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    from hard import corpus_path

    from pipelines.similarity import near_duplicates as nd
    from pipelines.similarity.minhash import signature

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--corpus", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--run-docs", type=int, default=1000)
    parser.add_argument("--seeds-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    from corpus import SEEDS_DIR

    documents = []
    with corpus_path(args.corpus, args.seed, args.seeds_dir or SEEDS_DIR).open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n == args.docs:
                break
            documents.append(json.loads(line))
    sigs = [signature(doc["text"]) for doc in documents]
    stories = [doc["story"] for doc in documents]
    roles = [doc["role"] for doc in documents]
    pairs = verified_pairs([s.hashes for s in sigs], sigs, nd.DEFAULT_THRESHOLD)
    score(pairs, stories, "components of verified pairs")
    wrong = Counter(tuple(sorted((roles[a], roles[b]))) for a, b in pairs if stories[a] != stories[b])
    print("  wrong direct pairs by roles:", dict(wrong.most_common()))

    best = {}
    for (a, b), similarity in pairs.items():
        for x, y in ((a, b), (b, a)):
            if x not in best or (similarity, -y) > (best[x][0], -best[x][1]):
                best[x] = (similarity, y)
    score([(x, y) for x, (_, y) in best.items()], stories, "1-NN (most similar verified member only)")

    later = defaultdict(list)
    for a, b in pairs:
        later[b].append(a)
    counts, common, kept = Counter(), np.empty(0, dtype=np.uint32), []
    for b, sig in enumerate(sigs):
        if args.run_docs and b % args.run_docs == 0:
            common = np.array(sorted(h for h, n in counts.items() if n >= nd.COMMON_ARTICLES), dtype=np.uint32)
        sampled = nd.sampled_hashes(sig.hashes)
        distinct = sampled[~np.isin(sampled, common)]
        kept += [(a, b) for a in later[b]
                 if len(np.intersect1d(distinct, sigs[a].hashes, assume_unique=True)) >= nd.MIN_DISTINCT_SHARED]
        counts.update(sampled.tolist())
    score(kept, stories, f"guard (template of earlier runs of {args.run_docs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
