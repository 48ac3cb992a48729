"""Story clusters on a hard corpus: unrelated articles that share 20-60% of their sentences, and true copies.

    python bench/dedup/hard.py                          # 5,000 and 20,000 documents
    python bench/dedup/hard.py --sizes 5000 20000 50000
    python bench/dedup/hard.py --sizes 5000 20000 --corpus 50000 --threshold 0.5

The corpus (written once into bench/dedup/.data/, sentences from corpus.py's
word-bigram chain over ../shared/seeds/):

- **report** (30%): templated recurring reports in four families (prayer times,
  weather, markets, match results). Each family has a fixed template of 10
  sentences; a report takes its first k template sentences, k = 20-60% of its
  8-14 sentences, and writes the rest itself. Two reports of a family are
  different stories;
- **agency** (20%): a new story into which one to three paragraphs from a pool of
  300 agency paragraphs are inserted, 20-60% of its sentences. Different stories;
- **original** (the rest of the new stories);
- **copy**: republications of any of them (25% of stories have 1-20, Pareto):
  new headline, added or dropped paragraph, an update (a sentence added and a
  figure changed), spelling and punctuation variants (corpus.py's mutations).

Every document goes through the production decisions (pipelines.dedup.DedupPipeline)
and batched writes (insert_rows, as `arshif merge` writes) into a real SQLite
archive, as ONE run by default (a first crawl of a backlog into an empty archive), or in
runs of ``--run-docs`` documents (the pipeline is closed and opened again, as the next
hourly crawl). At the end of each run its stories are decided as StoragePipeline does
(pipelines/similarity/stories.py: the template guards from the whole run's counts;
timed with the run). Reported:

- **originals lost**: documents whose normalized text is in no article (must be 0);
- **precision / recall of copy pairs**: over all pairs of documents, a pair is
  predicted together when both end up in one story (a duplicates row counts in
  its article's story), truly together when they are copies of one story;
- **wrong pairs**: pairs put in one story that are not copies of each other;
- **old rule**: what the previous design (MinHash estimate alone decides; a match
  is dropped as a `near` duplicate) would have done: documents of a new story it
  would have dropped, and how many of the LSH candidates' estimates passed the
  threshold while exact Jaccard refused them (false accepts);
- **CPU ms/doc**: the pipeline's and the writes' CPU time, overall and for the
  last 10% of documents (the largest archive).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parents[1]
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(BENCH_DIR))

DATA_DIR = BENCH_DIR / ".data"
FAMILIES = ("prayer", "weather", "markets", "matches")


class HardCorpus:
    def __init__(self, seed: int, seeds_dir: Path):
        from corpus import Corpus, read_seeds

        self.base = Corpus(read_seeds(seeds_dir), seed)
        self.rng = self.base.rng
        self.writer = self.base.writer
        self.templates = {family: [self.writer.sentence([]) for _ in range(10)] for family in FAMILIES}
        self.agency = [self.writer.paragraph([]) for _ in range(300)]

    def _sentences(self, entities: list[str], count: int) -> list[str]:
        return [self.writer.sentence(entities) for _ in range(count)]

    def report(self) -> dict:
        rng = self.rng
        entities = self.writer.entities()
        total = rng.randint(8, 14)
        shared = max(1, round(total * rng.uniform(0.2, 0.6)))
        template = self.templates[rng.choice(FAMILIES)][:shared]
        own = self._sentences(entities, total - shared)
        sentences = template[:2] + own + template[2:]
        paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        title = " ".join(self.writer.sentence(entities).split()[:8]).rstrip(".")
        return {"title": title, "paragraphs": paragraphs, "entities": entities}

    def agency_story(self) -> dict:
        rng = self.rng
        story = self.base.story(brief=False)
        own = sum(p.count(".") for p in story["paragraphs"]) or 1
        paragraphs = list(story["paragraphs"])
        target = rng.uniform(0.2, 0.6)
        shared = 0
        for paragraph in rng.sample(self.agency, 3):
            if shared / (own + shared) >= target:
                break
            paragraphs.insert(rng.randint(1, len(paragraphs)), paragraph)
            shared += paragraph.count(".")
        return {**story, "paragraphs": paragraphs}

    def copy(self, story: dict) -> tuple[dict, list[str]]:
        rng = self.rng
        if rng.random() < 0.2:  # an update: a sentence added at the end, a figure changed
            paragraphs = list(story["paragraphs"])
            paragraphs[-1] = paragraphs[-1].replace(story["entities"][-1], str(rng.randint(401, 999)))
            paragraphs.append("تحديث: " + self.writer.sentence(story["entities"]))
            return {**story, "paragraphs": paragraphs}, ["update"]
        return self.base.copy(story)

    def documents(self, total: int):
        rng = self.rng
        timeline = []
        story_id = 0
        while len(timeline) < total:
            at = rng.uniform(0, total)
            roll = rng.random()
            base, role = ((self.report(), "report") if roll < 0.3 else
                          (self.agency_story(), "agency") if roll < 0.5 else (self.base.story(), "original"))
            timeline.append((at, {"story": story_id, "role": role, "mutations": [], **_render(base)}))
            copies = 0 if rng.random() < 0.75 else min(int(rng.paretovariate(1.9)), 20)
            for _ in range(copies):
                copy, mutations = self.copy(base)
                timeline.append((at + rng.expovariate(1 / 40), {"story": story_id, "role": "copy", "mutations": mutations,
                                                                 **_render(copy)}))
            story_id += 1
        timeline.sort(key=lambda pair: pair[0])
        for doc_id, (at, doc) in enumerate(timeline[:total]):
            yield {"id": doc_id, "published": _when(at), **doc}


def _render(story: dict) -> dict:
    return {"title": story["title"], "text": "\n".join(story["paragraphs"])}


def _when(at: float) -> str:
    seconds = int(at * 600)  # documents spread over days: ten minutes a document
    day, rest = divmod(seconds, 86400)
    return f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}T{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}+00:00"


def corpus_path(docs: int, seed: int, seeds_dir: Path) -> Path:
    path = DATA_DIR / f"hard-{docs}-{seed}.jsonl"
    if not path.exists():
        corpus = HardCorpus(seed, seeds_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("w", encoding="utf-8") as out:
            for doc in corpus.documents(docs):
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        partial.replace(path)
    return path


def _counters(near) -> dict:
    return {name: getattr(near, name) for name in ("candidates_checked", "estimate_accepted", "exact_accepted",
                                                   "estimate_only", "buckets_skipped")}


def _end_run(db, totals: Counter) -> float:
    """The run's stories, decided as StoragePipeline does after its last batch; its CPU seconds."""
    from pipelines.similarity.stories import resolve_stories

    started = time.process_time()
    done = resolve_stories(db)
    totals.update({"template_refused": done.template_refused, "bucket_refused": done.bucket_refused,
                   "pairs_kept": done.kept})
    return time.process_time() - started


def _pairs(groups: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in groups.values())


def _crawler(db_path: Path, threshold: float, index_batch: int | None):
    from scrapy.settings import Settings
    from scrapy.signalmanager import SignalManager

    from crawler.cli.merge import _Stats

    settings = {"ARSHIF_DB": str(db_path), "ARSHIF_NEAR_DUPLICATE_THRESHOLD": threshold, "ARSHIF_BATCH_SIZE": 50}
    if index_batch:
        settings["ARSHIF_NEAR_INDEX_BATCH"] = index_batch
    return SimpleNamespace(settings=Settings(settings), signals=SignalManager(), stats=_Stats(),
                           spider=SimpleNamespace(name="bench", source=None))


def _read(path: Path, start: int, stop: int) -> list[dict]:
    documents = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n == stop:
                break
            if n >= start:
                documents.append(json.loads(line))
    return documents


def _record(doc: dict) -> dict:
    url = f"http://bench.example/{doc['id']}"
    return {"url": url, "canonical_url": url, "source": "bench", "title": doc["title"], "text": doc["text"],
            "published": doc["published"], "fetched_at": doc["published"], "language": "ar"}


def _process(pipeline, writer, record: dict):
    """One page through the production decision and the batched writes: what a crawl pays a page."""
    from crawler.items import PageItem
    from pipelines.similarity.fingerprints import content_hash

    record["content_hash"] = content_hash(record["text"])
    item = PageItem(url=record["url"], source="bench", body=b"", record=record)
    pipeline.process_item(item)
    if item.duplicate:
        writer.duplicate(record, item.duplicate, None)
    else:
        writer.article(record, item.replaces)
    return item


def probe(snapshot: Path, path: Path, start: int, count: int, threshold: float, index_batch: int | None) -> dict:
    """The next hourly run into an archive of a given size: documents [start, start + count) of the
    corpus (the same ones for every size) as one new run into a copy of ``snapshot``, timed whole:
    the pipeline's open (its index look-ups), every page, the last writes and the run's stories."""
    from crawler.cli.merge import _Writer
    from pipelines.archive.database import open_archive
    from pipelines.dedup import DedupPipeline

    documents = _read(path, start, start + count)
    with tempfile.TemporaryDirectory(dir=snapshot.parent) as tmp:
        db_path = Path(tmp) / "archive.db"
        shutil.copyfile(snapshot, db_path)
        crawler = _crawler(db_path, threshold, index_batch)
        started, wall = time.process_time(), time.perf_counter()
        pipeline = DedupPipeline.from_crawler(crawler)
        pipeline.open_spider()
        db = open_archive(db_path)
        writer = _Writer(db)
        for doc in documents:
            _process(pipeline, writer, _record(doc))
        writer.flush()
        pipeline.close_spider()
        _end_run(db, Counter())
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        db.close()
    return {"cpu_ms_per_doc": 1000 * cpu / count, "wall_ms_per_doc": 1000 * wall / count}


def measure(path: Path, docs: int, threshold: float, run_docs: int = 1000, index_batch: int | None = None,
            keep: Path | None = None) -> dict:
    from crawler.cli.merge import (
        _Writer,  # what `arshif merge` drives the pipeline with
    )
    from pipelines.archive.database import open_archive
    from pipelines.dedup import DedupPipeline
    from pipelines.similarity.fingerprints import content_hash
    from pipelines.similarity.near_duplicates import signature

    documents = _read(path, 0, docs)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "archive.db"
        crawler = _crawler(db_path, threshold, index_batch)
        pipeline = DedupPipeline.from_crawler(crawler)
        pipeline.open_spider()
        db = open_archive(db_path)
        writer = _Writer(db)
        old_rule_drops = old_rule_lost = 0
        seen_stories: set[int] = set()
        cpu = tail_cpu = 0.0
        totals = Counter()
        for n, doc in enumerate(documents):
            if run_docs and n and n % run_docs == 0:  # the service crawls every hour: a new run
                started = time.process_time()
                writer.flush()
                totals.update(_counters(pipeline.near))
                pipeline.close_spider()
                cpu += time.process_time() - started + _end_run(db, totals)
                started = time.process_time()
                pipeline = DedupPipeline.from_crawler(crawler)
                pipeline.open_spider()
                cpu += time.process_time() - started
            record = _record(doc)
            started = time.process_time()
            item = _process(pipeline, writer, record)
            spent = time.process_time() - started
            cpu += spent
            if n >= docs * 0.9:
                tail_cpu += spent
            if not item.duplicate and not item.replaces and pipeline.near is not None:
                # the old rule, outside the timed part: any candidate whose estimate passes drops the page
                sig = signature(doc["text"])
                skipped = pipeline.near.buckets_skipped  # counted for the decision only
                if any(sig.similarity(other) >= threshold for other_id, other in pipeline.near.candidates(sig)
                       if other_id != record["id"]):
                    old_rule_drops += 1
                    old_rule_lost += doc["story"] not in seen_stories
                pipeline.near.buckets_skipped = skipped
            seen_stories.add(doc["story"])
        started = time.process_time()  # the last writes: the index's last batch is written here
        writer.flush()
        totals.update(_counters(pipeline.near))
        pipeline.close_spider()
        cpu += time.process_time() - started + _end_run(db, totals)
        tail_cpu += time.process_time() - started
        story_of = dict(db.execute("SELECT url, story_id FROM articles").fetchall())
        for url, of in db.execute("SELECT d.url, a.story_id FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"):
            story_of[url] = of
        hashes = {row[0] for row in db.execute("SELECT content_hash FROM articles")}
        articles = db["articles"].count
        stories = db.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
        db.close()
        if keep is not None:  # the archive of this size, for --probe: checkpointed into one file
            connection = sqlite3.connect(db_path)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            shutil.copyfile(db_path, keep)
    lost = sum(content_hash(doc["text"]) not in hashes for doc in documents)
    together, predicted, truth = Counter(), Counter(), Counter()
    for doc in documents:
        story = story_of[f"http://bench.example/{doc['id']}"]
        together[(story, doc["story"])] += 1
        predicted[story] += 1
        truth[doc["story"]] += 1
    right, said, real = _pairs(together), _pairs(predicted), _pairs(truth)
    tail_docs = docs - int(docs * 0.9)
    return {
        "docs": docs, "threshold": threshold, "articles": articles, "stories": stories, "lost": lost,
        "precision": right / said if said else 1.0, "recall": right / real if real else 1.0,
        "wrong_pairs": said - right, "true_pairs": real,
        "roles": dict(Counter(doc["role"] for doc in documents)),
        "runs": -(-docs // run_docs) if run_docs else 1, **totals, "old_rule_drops": old_rule_drops, "old_rule_originals_lost": old_rule_lost,
        "cpu_ms_per_doc": 1000 * cpu / docs, "tail_cpu_ms_per_doc": 1000 * tail_cpu / tail_docs,
    }


def _child(*args: str) -> dict:
    command = [sys.executable, __file__, *args]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--threshold", type=float, default=None, help="default: the module's DEFAULT_THRESHOLD")
    parser.add_argument("--seed", type=int, default=11, help="corpus seed")
    parser.add_argument("--corpus", type=int, default=None,
                        help="documents in the corpus the sizes are prefixes of (default: the largest size, plus --probe)")
    parser.add_argument("--seeds-dir", type=Path, default=None, help="the seed pages (default: ../shared/seeds)")
    parser.add_argument("--run-docs", type=int, default=0,
                        help="documents a run (the pipeline is reopened, as the next hourly crawl; 0, the default: one run)")
    parser.add_argument("--index-batch", type=int, default=0,
                        help="ARSHIF_NEAR_INDEX_BATCH (0, the default: the pipeline's default)")
    parser.add_argument("--probe", type=int, default=0,
                        help="then time the next run of this many documents (the same ones) into each size's archive")
    parser.add_argument("--repeat", type=int, default=5, help="probe rounds, sizes interleaved in each (medians)")
    parser.add_argument("--snapshots", type=Path, default=None,
                        help="keep each size's archive here for --probe, and reuse those already there (no build)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from corpus import SEEDS_DIR

    from pipelines.similarity.near_duplicates import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if args.child:
        print(json.dumps(measure(args.child, args.sizes[0], threshold, args.run_docs, args.index_batch, args.keep)))
        return 0
    if args.probe_child:
        print(json.dumps(probe(args.probe_child, args.corpus_file, max(args.sizes), args.probe, threshold,
                               args.index_batch)))
        return 0
    path = corpus_path(args.corpus or max(args.sizes) + args.probe, args.seed, args.seeds_dir or SEEDS_DIR)
    print(f"{'docs':>6} {'articles':>8} {'stories':>7} {'lost':>4} {'precision':>9} {'recall':>7} {'wrong pairs':>11} "
          f"{'CPU ms/doc':>10} {'last 10%':>8} {'candidates':>10} {'est. only':>9} {'template':>8} {'skipped':>7} "
          f"{'old: dropped':>12} {'old: originals lost':>19}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as scratch:
        snapshots = args.snapshots or Path(scratch)
        snapshots.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            if args.snapshots and (snapshots / f"{size}.db").exists():
                print(f"{size:>6} (the archive in {snapshots}: not built again)")
                continue
            keep = ["--keep", str(Path(snapshots) / f"{size}.db")] if args.probe else []
            row = _child("--child", str(path), "--sizes", str(size), "--threshold", str(threshold),
                         "--run-docs", str(args.run_docs), "--index-batch", str(args.index_batch), *keep)
            print(f"{row['docs']:>6} {row['articles']:>8} {row['stories']:>7} {row['lost']:>4} {row['precision']:>9.4f} "
                  f"{row['recall']:>7.4f} {row['wrong_pairs']:>11} {row['cpu_ms_per_doc']:>10.3f} {row['tail_cpu_ms_per_doc']:>8.3f} "
                  f"{row['candidates_checked']:>10} {row['estimate_only']:>9} {row['template_refused']:>8} {row['buckets_skipped']:>7} "
                  f"{row['old_rule_drops']:>12} {row['old_rule_originals_lost']:>19}", flush=True)
            print(f"  {row['runs']} runs; roles {row['roles']}; true copy pairs {row['true_pairs']}; LSH candidates whose estimate passed "
                  f"{row['estimate_accepted']}, exact Jaccard passed {row['exact_accepted']}", flush=True)
        if not args.probe:
            return 0
        start = max(args.sizes)
        if start + args.probe > sum(1 for _ in path.open(encoding="utf-8")):
            raise SystemExit(f"the corpus {path} has fewer than {start + args.probe} documents: give --corpus")
        # the next run (documents [largest size, + probe)) into each size's archive; sizes interleaved
        # in every round, so a shared machine's slow minutes fall on every size alike
        runs: dict[int, list[dict]] = {size: [] for size in args.sizes}
        for _ in range(args.repeat):
            for size in args.sizes:
                runs[size].append(_child("--probe-child", str(Path(snapshots) / f"{size}.db"), "--corpus-file", str(path),
                                         "--sizes", str(start), "--probe", str(args.probe), "--threshold", str(threshold),
                                         "--index-batch", str(args.index_batch)))
    first = _median([run["cpu_ms_per_doc"] for run in runs[args.sizes[0]]])
    print(f"\nthe next run of {args.probe} documents into each archive ({args.repeat} rounds, medians):")
    print(f"{'archive':>8} {'CPU ms/doc':>10} {'min-max':>13} {'wall ms/doc':>11} {'ratio':>6}")
    for size in args.sizes:
        cpu = [run["cpu_ms_per_doc"] for run in runs[size]]
        print(f"{size:>8} {_median(cpu):>10.3f} {min(cpu):>6.3f}-{max(cpu):<6.3f} "
              f"{_median([run['wall_ms_per_doc'] for run in runs[size]]):>11.3f} {_median(cpu) / first:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
