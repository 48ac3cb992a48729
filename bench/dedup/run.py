"""Near-duplicate benchmark: precision, recall, docs/second and peak memory at growing archive sizes.

    python bench/dedup/run.py                       # 5,000 and 20,000 documents
    python bench/dedup/run.py --sizes 5000 20000 50000 --threshold 0.5
    python bench/dedup/run.py --sweep 0.3 0.4 0.5 0.6 0.7 --sizes 20000

Documents from bench/dedup/corpus.py (generated once into bench/dedup/.data/)
go one by one through the production path, pipelines/similarity/near_duplicates.py, over a
real SQLite archive file: signature, LSH lookup in the archive's band table,
verification, then indexing of the kept ones. Each size runs in its own process
so that its peak memory (ru_maxrss) is its own.

A decision is right when a document is matched to an archived document of the
same story. Precision: right matches / all matches. Recall: right matches /
documents whose story was already archived.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parents[1]
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(BENCH_DIR))

DATA_DIR = BENCH_DIR / ".data"


def corpus_path(docs: int, seed: int) -> Path:
    from corpus import write_corpus

    path = DATA_DIR / f"corpus-{docs}-{seed}.jsonl"
    if not path.exists():
        write_corpus(path, docs, seed)
    return path


def reset_peak_rss() -> bool:
    """Start the peak-RSS count afresh (Linux); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mib(field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory, from /proc or getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; includes the parent's peak


def measure(path: Path, docs: int, threshold: float) -> dict:
    """Ingest the first ``docs`` documents of the corpus; return the figures."""
    from pipelines.archive.database import open_archive
    from pipelines.similarity.near_duplicates import open_index, signature

    with tempfile.TemporaryDirectory() as tmp:
        db = open_archive(Path(tmp) / "archive.db")
        index = open_index(db, threshold)
        reset_peak_rss()
        rss_before = rss_mib("VmRSS")
        story_of = array("l")  # archived document (its id) → story
        seen_stories: set[int] = set()
        right = wrong = missed = 0
        wrong_roles: Counter = Counter()
        missed_mutations: Counter = Counter()
        seconds = cpu_seconds = lookup_cpu = 0.0
        tail_seconds = tail_cpu = 0.0  # the last 10% of documents: lookups against the largest archive
        with path.open(encoding="utf-8") as lines:
            for n, line in enumerate(lines):
                if n == docs:
                    break
                doc = json.loads(line)
                started, cpu_started = time.perf_counter(), time.process_time()
                sig = signature(doc["text"])
                cpu_signed = time.process_time()
                match = index.find(sig)
                if match is None:
                    index.add(n, sig)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                seconds += elapsed
                cpu_seconds += cpu
                lookup_cpu += time.process_time() - cpu_signed
                if n >= docs * 0.9:
                    tail_seconds += elapsed
                    tail_cpu += cpu
                while len(story_of) <= n:
                    story_of.append(-1)
                if match is None:
                    story_of[n] = doc["story"]
                    if doc["story"] in seen_stories:
                        missed += 1
                        missed_mutations.update(doc["mutations"] or [doc["role"]])
                elif story_of[match[0]] == doc["story"]:
                    right += 1
                else:
                    wrong += 1
                    wrong_roles[doc["role"]] += 1
                    if doc["story"] in seen_stories:
                        missed += 1
                seen_stories.add(doc["story"])
        started = time.perf_counter()
        index.close()
        seconds += time.perf_counter() - started
        db_bytes = sum(f.stat().st_size for f in Path(tmp).glob("archive.db*"))
        indexed = db.execute("SELECT COUNT(*) FROM near_duplicate_signatures").fetchone()[0]
        db.close()
    tail_docs = docs - int(docs * 0.9) if docs > 1 else 1
    return {
        "docs": docs,
        "threshold": threshold,
        "indexed": indexed,
        "precision": right / (right + wrong) if right + wrong else 1.0,
        "recall": right / (right + missed) if right + missed else 1.0,
        "matches": right + wrong,
        "wrong": wrong,
        "missed": missed,
        "wrong_roles": dict(wrong_roles),
        "missed_mutations": dict(missed_mutations.most_common()),
        "docs_per_second": docs / seconds,
        "tail_docs_per_second": tail_docs / tail_seconds if tail_seconds else 0.0,
        "cpu_ms_per_doc": 1000 * cpu_seconds / docs,
        "tail_cpu_ms_per_doc": 1000 * tail_cpu / tail_docs,
        "lookup_cpu_ms_per_doc": 1000 * lookup_cpu / docs,
        "candidates_per_doc": index.candidates_checked / docs,
        "rss_before_mib": rss_before,
        "peak_rss_mib": rss_mib(),
        "db_mib": db_bytes / 2**20,
    }


def run_child(path: Path, docs: int, threshold: float) -> dict:
    command = [sys.executable, __file__, "--child", str(path), "--sizes", str(docs), "--threshold", str(threshold)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(rows: list[dict]) -> None:
    print(f"{'docs':>6} {'thresh':>6} {'precision':>9} {'recall':>7} {'docs/s':>6} {'CPU ms/doc':>10} "
          f"{'last 10%':>8} {'lookup':>6} {'cand/doc':>8} {'peak RSS MiB':>12} {'growth MiB':>10} {'index MiB':>9}")
    for row in rows:
        growth = row["peak_rss_mib"] - row["rss_before_mib"]
        print(f"{row['docs']:>6} {row['threshold']:>6.2f} {row['precision']:>9.4f} {row['recall']:>7.4f} "
              f"{row['docs_per_second']:>6.0f} {row['cpu_ms_per_doc']:>10.3f} {row['tail_cpu_ms_per_doc']:>8.3f} "
              f"{row['lookup_cpu_ms_per_doc']:>6.3f} {row['candidates_per_doc']:>8.2f} "
              f"{row['peak_rss_mib']:>12.1f} {growth:>10.1f} {row['db_mib']:>9.1f}")
    for row in rows:
        print(f"  {row['docs']} @ {row['threshold']:.2f}: wrong matches by role {row['wrong_roles']}; "
              f"missed copies by mutation {row['missed_mutations']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--threshold", type=float, default=None, help="default: the module's DEFAULT_THRESHOLD")
    parser.add_argument("--sweep", type=float, nargs="+", help="thresholds to compare (largest size only)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.sizes[0], args.threshold)))
        return 0
    from pipelines.similarity.near_duplicates import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    path = corpus_path(max(args.sizes), args.seed)
    if args.sweep:
        rows = [run_child(path, max(args.sizes), t) for t in args.sweep]
    else:
        rows = [run_child(path, size, threshold) for size in args.sizes]
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
