"""`arshif crawl SOURCE`: crawl one source from seeds/ into the archive (or as a cluster worker)."""

from __future__ import annotations

import argparse
import os
import sys

from crawler.cli.common import DEFAULT_DB, refuse_if_locked, run_crawl, summary_line
from pipelines.archive.checks import check_archive_path, write_problem


def register(sub) -> None:
    crawl = sub.add_parser("crawl", help="crawl one source from seeds/",
                           description="Example: arshif crawl aljazeera --db data/archive.db\n"
                                       "Cluster worker: arshif crawl aljazeera --redis redis://10.0.0.5:6379/0 --db data/shard-1.db",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    crawl.add_argument("source", help="a name from seeds/ or a path to a source .toml file")
    crawl.add_argument("--db", default=DEFAULT_DB)
    crawl.add_argument("--base-url", help="point the source at another origin (a local copy of the site)")
    crawl.add_argument("--local", action="store_true", help="no AutoThrottle or delay (for local test sites)")
    crawl.add_argument("--refresh", action="store_true", help="download archived article pages again")
    crawl.add_argument("--retry-failed", action="store_true",
                       help="fetch again article pages that yielded no article (extraction_failed, not_article, too_old); "
                            "done anyway when the source file or the extraction version changed")
    crawl.add_argument("--log-level", default="INFO")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                       help="override a Scrapy/Arshif setting")
    cluster = crawl.add_argument_group("cluster (several workers share one queue in Redis; see `Running a cluster`)")
    cluster.add_argument("--redis", metavar="URL",
                         help="join a cluster run: share the request queue and seen-set in this Redis "
                              "(default: the REDIS_URL environment variable; without either, a single-machine crawl)")
    cluster.add_argument("--run", metavar="NAME",
                         help="the cluster run to join: every worker of one crawl gives the same name (default: today's UTC date)")
    cluster.add_argument("--redis-ttl", type=int, metavar="SECONDS",
                         help="the run's keys expire this long after its last activity (default 259200, three days; 0: never)")
    cluster.add_argument("--redis-bloom", type=int, metavar="URLS",
                         help="keep the seen-set as a Bloom filter sized for this many URLs (5.3 MB in Redis per million; "
                              "about one URL in a million wrongly taken as seen and skipped) instead of an exact set "
                              "(89 MB per million URLs)")
    crawl.set_defaults(func=cmd_crawl)


def _cluster_overrides(args) -> list[str]:
    """`--redis`, `--run`, `--redis-ttl`, `--redis-bloom` (and REDIS_URL from the environment) as settings."""
    redis_url = args.redis or os.environ.get("REDIS_URL")
    if not redis_url:
        return []  # `-s REDIS_URL=...` works too: -s settings come last and win
    options = {"ARSHIF_REDIS_RUN": args.run, "ARSHIF_REDIS_TTL": args.redis_ttl, "ARSHIF_REDIS_BLOOM": args.redis_bloom}
    return [f"REDIS_URL={redis_url}", *(f"{name}={value}" for name, value in options.items() if value is not None)]


def cmd_crawl(args) -> int:
    check_archive_path(args.db)  # ArchiveError: exit 4 before the lock file or anything else is made
    problem = write_problem(args.db)
    if problem:  # a read-only file system: say so, not a traceback from the lock file
        print(f"arshif: {problem}", file=sys.stderr)
        return 1
    refuse_if_locked(args.db)
    overrides = [*_cluster_overrides(args), *args.set, *(["ARSHIF_REFRESH=True"] if args.refresh else []),
                 *(["ARSHIF_RETRY_FAILED=True"] if args.retry_failed else [])]
    row = run_crawl(args.source, args.db, args.base_url, args.log_level, overrides, polite=not args.local)
    print(summary_line(row))
    if row.get("cluster_run"):
        print(f"cluster: run {row['cluster_run']}; {row['cluster_requeued']} requests of stopped workers requeued; "
              f"merge the shards with `arshif merge SHARD... --into ARCHIVE`")
    if row.get("warning"):
        print(f"arshif: warning: {row['warning']}", file=sys.stderr)
    if row.get("error"):
        print(f"arshif: the crawl stopped: {row['error']}", file=sys.stderr)
    if row["status"] != "finished":
        return 1
    found = row["stored"] + row["duplicate"] + row["already_archived"] + (row["skipped_archived"] or 0)
    candidates = found + sum(row.get(key) or 0 for key in ("not_article", "not_arabic", "too_old", "extraction_failed"))
    if row.get("cluster_run") and candidates == 0:
        return 0  # other workers of the run took the article pages
    if row.get("limit_reached") and candidates == 0:
        return 0  # the page limit came before any article page
    if found == 0 and not row["not_modified"]:
        print(f"arshif: warning: source {row['source']} yielded no article at all", file=sys.stderr)
        return 2
    return 0
