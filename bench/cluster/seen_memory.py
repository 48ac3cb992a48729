"""Memory of a run's seen-set in a real Redis, per million URLs: exact set vs Bloom filter.

    python -m bench.cluster.seen_memory [--urls 1000000]

Adds the fingerprints of N distinct article URLs, computed exactly as a worker
computes them (crawler.cluster.ClusterDupeFilter: scrapy-redis's
RFPDupeFilter fingerprint, a 40-character SHA-1), through the same Lua script,
first to the exact set, then to a Bloom filter sized for N
(ARSHIF_REDIS_BLOOM=N), and reads `used_memory` from INFO memory before and
after each. Then probes N URLs never added to count the Bloom filter's false
positives (URLs a crawl would wrongly skip).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.cluster.run import WORK, start_redis  # noqa: E402

BATCH = 10_000


def _filter(client, bloom: int):
    from crawler.cluster import ClusterDupeFilter

    return ClusterDupeFilter(client, f"arshif:bench:memory:{'bloom' if bloom else 'set'}", bloom_capacity=bloom)


def _requests(start: int, count: int):
    from scrapy import Request

    return (Request(f"https://www.example-news.com/ar/news/2025/06/{n:09d}/story-title-{n}.html") for n in range(start, start + count))


# Read-only membership test of a Bloom filter (the workers' script adds as it tests).
_PROBE = """
for i = 1, #ARGV do
  if redis.call('GETBIT', KEYS[1], ARGV[i]) == 0 then return 0 end
end
return 1
"""


def _run(client, requests, call) -> int:
    """Call the script for every request, pipelined; return how many answered 1."""
    answered = 0
    pipe = client.pipeline(transaction=False)
    for number, request in enumerate(requests, start=1):
        call(request, pipe)
        if number % BATCH == 0:
            answered += sum(1 for value in pipe.execute() if value == 1)
    return answered + sum(1 for value in pipe.execute() if value == 1)


def _add(client, dupefilter, requests) -> None:
    """Test-and-add through the workers' own script (crawler/cluster.py _ENQUEUE, without queueing)."""
    def call(request, pipe):
        mode, *check = dupefilter.check_args(dupefilter.request_fingerprint(request))
        dupefilter._script(keys=[dupefilter.key, dupefilter.key], args=[mode, 0, "", *check], client=pipe)

    _run(client, requests, call)


def _false_positives(client, dupefilter, requests) -> int:
    probe = client.register_script(_PROBE)

    def call(request, pipe):
        probe(keys=[dupefilter.key], args=dupefilter.check_args(dupefilter.request_fingerprint(request))[1:], client=pipe)

    return _run(client, requests, call)


def measure(client, urls: int, bloom: int) -> dict:
    dupefilter = _filter(client, bloom)
    client.delete(dupefilter.key)
    before = client.info("memory")["used_memory"]
    started = time.monotonic()
    _add(client, dupefilter, _requests(0, urls))
    seconds = time.monotonic() - started
    used = client.info("memory")["used_memory"] - before
    result = {"kind": f"Bloom filter (capacity {bloom:,})" if bloom else "exact set", "urls": urls,
              "bytes": used, "mb_per_million": round(used / urls, 1), "add_seconds": round(seconds, 1),
              "key_bytes": client.memory_usage(dupefilter.key, samples=0)}
    if bloom:
        result["false_positives"] = _false_positives(client, dupefilter, _requests(urls, urls))
    client.delete(dupefilter.key)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    import redis

    process, url = start_redis(WORK / "redis-memory")
    try:
        client = redis.Redis.from_url(url)
        print(client.info("server")["redis_version"], client.info("memory")["mem_allocator"])
        for bloom in (0, args.urls):
            print(measure(client, args.urls, bloom), flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
