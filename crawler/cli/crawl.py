"""`arshif crawl SOURCE...` / `arshif crawl --all`: crawl sources from seeds/ into the archive (or as a cluster worker).

One source runs as it always did; several (or `--all`) run concurrently in one
process with one archive writer (crawler/many_sources.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.cli.common import (
    DEFAULT_DB,
    peak_rss_mb,
    refuse_if_locked,
    run_crawl,
    summary_line,
)
from crawler.failure_hook import notify
from crawler.many_sources import SourceRun, run_exit, run_sources, source_exit
from pipelines.archive.checks import check_archive_path, write_problem


def register(sub) -> None:
    crawl = sub.add_parser("crawl", help="crawl sources from seeds/ (one, several, or --all)",
                           description="Example: arshif crawl aljazeera --db data/archive.db\n"
                                       "Every source, concurrently, one writer: arshif crawl --all --db data/archive.db\n"
                                       "Cluster worker: arshif crawl aljazeera --redis redis://10.0.0.5:6379/0 --db data/shard-1.db\n"
                                       "Exit codes: 0 all finished, 1 a source failed, 2 a source yielded no article, "
                                       "3 the archive is locked by another run (README `Exit codes`)",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    crawl.add_argument("source", nargs="*", help="names from seeds/ or paths to source .toml files")
    crawl.add_argument("--all", action="store_true", help="every source file in seeds/ (or --seeds), concurrently")
    crawl.add_argument("--seeds", metavar="DIR", help="the folder --all reads source files from (default: seeds/)")
    crawl.add_argument("--db", default=DEFAULT_DB)
    crawl.add_argument("--base-url", action="append", default=[], metavar="[SOURCE=]URL",
                       help="point a source at another origin (a local copy of the site); SOURCE=URL, repeated, "
                            "with several sources")
    crawl.add_argument("--base-url-map", metavar="FILE",
                       help="a TOML file of `source = \"URL\"` lines: --base-url for many sources")
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


def _usage(message: str) -> SystemExit:
    """A mistake in the command line: exit 2, as argparse does."""
    print(f"arshif crawl: {message}", file=sys.stderr)
    return SystemExit(2)


def _specs(args) -> list[str]:
    if args.all and args.source:
        raise _usage("give source names or --all, not both")
    if args.all:
        from crawler.sources import SEEDS_DIR, scheduled_files

        folder = Path(args.seeds) if args.seeds else SEEDS_DIR
        files, left_out = scheduled_files(folder)
        if not files:
            raise _usage(f"no source files (*.toml) in {folder}" + (" with scheduled = true" if left_out else ""))
        for path in left_out:  # stdout: a note, not a failure cron should mail
            print(f"arshif crawl --all: left out {path.stem} (scheduled = false in {path}); name it to crawl it")
        args.left_out = {path.stem for path in left_out}
        return [str(path) for path in files]
    if args.seeds:
        raise _usage("--seeds goes with --all")
    if not args.source:
        raise _usage("give a source name (see seeds/) or --all")
    return args.source


def _base_urls(args, specs: list[str]) -> dict[str, str]:
    """--base-url-map FILE and --base-url [SOURCE=]URL as {source name: origin}."""
    urls: dict[str, str] = {}
    if args.base_url_map:
        from crawler.sources import tomllib

        try:
            data = tomllib.loads(Path(args.base_url_map).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _usage(f"--base-url-map {args.base_url_map}: {exc}") from None
        bad = [key for key, value in data.items() if not isinstance(value, str)]
        if bad:
            raise _usage(f"--base-url-map {args.base_url_map}: {bad[0]}: must be a URL string")
        urls.update(data)
    for value in args.base_url:
        name, sep, url = value.partition("=")
        if sep and "://" not in name:
            urls[name] = url
        elif len(specs) == 1 and not args.all:
            urls[""] = value  # the one source, whatever its name
        else:
            raise _usage(f"--base-url {value}: with several sources, give SOURCE=URL")
    return urls


def cmd_crawl(args) -> int:
    specs = _specs(args)
    base_urls = _base_urls(args, specs)
    for name in sorted(getattr(args, "left_out", set()) & set(base_urls)):  # a map shared with runs that name them
        print(f"arshif crawl --all: --base-url for {name} not used ({name} is left out: scheduled = false)")
        del base_urls[name]
    check_archive_path(args.db)  # ArchiveError: exit 4 before the lock file or anything else is made
    problem = write_problem(args.db)
    if problem:  # a read-only file system: say so, not a traceback from the lock file
        print(f"arshif: {problem}", file=sys.stderr)
        return 1
    refuse_if_locked(args.db)
    overrides = [*_cluster_overrides(args), *args.set, *(["ARSHIF_REFRESH=True"] if args.refresh else []),
                 *(["ARSHIF_RETRY_FAILED=True"] if args.retry_failed else [])]
    if len(specs) > 1 or args.all:
        return _crawl_many(args, specs, base_urls, overrides)
    base_url = base_urls.pop("", None)
    if base_urls:  # SOURCE=URL for the one source
        from crawler.sources import load_source

        name = load_source(specs[0]).name
        base_url = base_urls.pop(name, None)
        if base_urls:
            raise _usage(f"--base-url for sources not in this run: {', '.join(sorted(base_urls))}")
    row = run_crawl(specs[0], args.db, base_url, args.log_level, overrides, polite=not args.local)
    print(summary_line(row))
    if row.get("cluster_run"):
        print(f"cluster: run {row['cluster_run']}; {row['cluster_requeued']} requests of stopped workers requeued; "
              f"merge the shards with `arshif merge SHARD... --into ARCHIVE`")
    if row.get("warning"):
        print(f"arshif: warning: {row['warning']}", file=sys.stderr)
    if row.get("error"):
        print(f"arshif: the crawl stopped: {row['error']}", file=sys.stderr)
    code = source_exit(row)
    if code == 2:
        print(f"arshif: warning: source {row['source']} yielded no article at all", file=sys.stderr)
    notify(os.environ, args.db, code, [SourceRun(specs[0], row["source"], row=row, exit=code)])
    return code


def _crawl_many(args, specs: list[str], base_urls: dict[str, str], overrides: list[str]) -> int:
    """Every source concurrently, one writer; a summary line per source, then one for the run."""
    from pipelines.archive.lock import ArchiveLocked

    try:
        runs = run_sources(specs, args.db, base_urls, args.log_level, overrides, polite=not args.local)
    except ArchiveLocked as exc:  # taken between refuse_if_locked and the run: still nothing touched
        print(f"arshif: {exc}", file=sys.stderr)
        return 3
    except ValueError as exc:
        raise _usage(str(exc)) from None
    for run in runs:
        if run.row is not None:
            print(summary_line(run.row))
        if run.row and run.row.get("cluster_run"):
            print(f"{run.name}: cluster run {run.row['cluster_run']}; {run.row['cluster_requeued']} requests of "
                  "stopped workers requeued")
        if run.row and run.row.get("warning"):
            print(f"arshif: warning: {run.row['warning']}", file=sys.stderr)
        if run.error or (run.row and run.row.get("error")):
            print(f"arshif: source {run.name} failed: {run.error or run.row['error']}", file=sys.stderr)
        elif run.exit == 2:
            print(f"arshif: warning: source {run.name} yielded no article at all", file=sys.stderr)
    code = run_exit(runs)
    counts = {label: sum(run.exit == value for run in runs) for label, value in (("finished", 0), ("failed", 1), ("empty", 2))}
    stored = sum((run.row or {}).get("stored") or 0 for run in runs)
    print(f"{len(runs)} sources: {counts['finished']} finished, {counts['failed']} failed, "
          f"{counts['empty']} yielded no article; {stored} articles stored (peak RSS {peak_rss_mb()} MB)")
    notify(os.environ, args.db, code, runs)
    return code
