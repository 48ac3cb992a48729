"""`arshif crawl --all --redis`: every worker takes every source, one cluster run per source, one real redis-server."""

from __future__ import annotations

import subprocess
import sys

from crawler.demo.server import DEMO_SITE, SiteServer
from tests.conftest import PROJECT_DIR
from tests.test_distributed import WORKER_SETTINGS, _merge, _result, _rows, redis_url  # noqa: F401 (fixture)
from tests.test_many_sources import DEDUP_SITE, crawl_all, seeds_folder


def test_two_all_workers_share_every_source_and_merge_to_the_single_all_run(redis_url, tmp_path):  # noqa: F811
    site = tmp_path / "dedup-site"
    import shutil

    shutil.copytree(DEDUP_SITE / "day1", site)
    with SiteServer(DEMO_SITE, delay=0.3) as demo, SiteServer(site, delay=0.3) as dedup:
        origins = {"demo": demo.origin, "dedup-site": dedup.origin}
        seeds, base_map = seeds_folder(tmp_path / "seeds", origins, names=("demo", "dedup-site"))
        shards = [tmp_path / f"worker-{n}" / "shard.db" for n in (1, 2)]
        workers = []
        for shard in shards:
            shard.parent.mkdir()
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "crawler.cli.main", "crawl", "--all", "--seeds", str(seeds), "--db", str(shard),
                 "--base-url-map", str(base_map), "--local", "--redis", redis_url, "--run", "every-source",
                 "--redis-ttl", "600", *WORKER_SETTINGS],
                cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [worker.communicate(timeout=300) for worker in workers]
        single = tmp_path / "single" / "archive.db"
        reference = crawl_all(seeds, base_map, single)
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
        assert "cluster run arshif:demo:every-source" in out and "cluster run arshif:dedup-site:every-source" in out
    assert reference.returncode == 0, reference.stderr[-3000:]
    for shard in shards:  # each worker ran every source: a crawls row each, in its own cluster run
        assert sorted(source for (source,) in _rows(shard, "SELECT source FROM crawls")) == ["dedup-site", "demo"]
    stored = [url for shard in shards for (url,) in _rows(shard, "SELECT url FROM articles")]
    assert len(stored) == len(set(stored))  # no article page taken by both workers
    merged = tmp_path / "merged.db"
    _merge(shards, merged)
    assert _result(merged) == _result(single)
