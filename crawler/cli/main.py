"""The `arshif` command: demo, crawl, extract, serve.

Each subcommand is a thin adapter: crawling is Scrapy's (`scrapy crawl news`),
extraction is `pipelines.extraction.records.make_record`, publishing is datasette.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATASETTE_DIR = PROJECT_DIR / "datasette"
DEFAULT_DB = "data/archive.db"
DEMO_PORT = 8642
# Modules that add a subcommand: each has `register(subparsers)`, in its own file.
COMMAND_MODULES = ("crawler.cli.reextract", "crawler.cli.export", "crawler.cli.merge")


def _settings(db: str, log_level: str, overrides: list[str] | None = None, polite: bool = True):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("ARSHIF_DB", db, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    if not polite:  # a local site: no throttling
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 16, priority="cmdline")
    for override in overrides or []:
        key, _, value = override.partition("=")
        settings.set(key.strip(), value, priority="cmdline")
    return settings


def run_crawl(source: str, db: str, base_url: str | None = None, log_level: str = "INFO",
              overrides: list[str] | None = None, polite: bool = True) -> dict:
    """Run the `news` spider in this process; return its crawls row as a dict."""
    from scrapy.crawler import CrawlerProcess

    from crawler.sources import load_source
    from pipelines.archive.database import open_archive

    loaded = load_source(source)  # fail here, with the file and key, before Scrapy starts
    settings = _settings(db, log_level, overrides, polite)
    if settings.get("REDIS_URL"):  # a cluster worker: scrapy-redis queue and seen-set (crawler/cluster.py)
        from crawler.cluster import ClusterError, configure

        try:
            configure(settings, loaded.name)
        except ClusterError as exc:
            raise SystemExit(f"arshif: {exc}") from None
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("news")
    kwargs = {"source": source}
    if base_url:
        kwargs["base_url"] = base_url
    process.crawl(crawler, **kwargs)
    process.start()
    crawl_id = crawler.stats.get_value("arshif/crawl_id")
    if crawl_id is None:
        raise SystemExit(f"arshif: the crawl of {source!r} did not start (see the log above)")
    db_handle = open_archive(db)
    row = dict(db_handle["crawls"].get(crawl_id))
    db_handle.close()
    row["seconds"] = round(time.monotonic() - started, 1)
    row["peak_rss_mb"] = peak_rss_mb()
    if settings.get("REDIS_URL"):
        row["cluster_run"] = settings.get("ARSHIF_REDIS_PREFIX")
        row["cluster_requeued"] = crawler.stats.get_value("cluster/requests_requeued", 0)
    return row


def peak_rss_mb() -> int:
    """Peak resident memory of this process or its largest child (the extraction workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024)


def summary_line(row: dict) -> str:
    return (
        f"{row['source']}: {row['pages_fetched']} pages fetched, {row['stored']} articles stored; "
        f"dropped: {row['duplicate']} duplicate, {row['already_archived']} already archived, "
        f"{row['not_arabic']} not Arabic, {row['not_article']} not an article, "
        f"{row['extraction_failed']} extraction failed; {row['http_error']} HTTP errors; "
        f"not downloaded again: {row['skipped_archived'] or 0} archived articles, {row['not_modified'] or 0} unchanged pages "
        f"(crawl {row['id']}, {row['status']}, {row['seconds']} s, peak RSS {row.get('peak_rss_mb', '?')} MB)"
    )


def _refuse_if_locked(db: str) -> None:
    """Exit at once, with a clear message, when another run writes this archive."""
    from pipelines.archive.lock import ArchiveLock, ArchiveLocked

    try:
        ArchiveLock(db).acquire().release()
    except ArchiveLocked as exc:
        print(f"arshif: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


def _cluster_overrides(args) -> list[str]:
    """`--redis`, `--run`, `--redis-ttl`, `--redis-bloom` (and REDIS_URL from the environment) as settings."""
    redis_url = args.redis or os.environ.get("REDIS_URL")
    if not redis_url:
        return []  # `-s REDIS_URL=...` works too: -s settings come last and win
    options = {"ARSHIF_REDIS_RUN": args.run, "ARSHIF_REDIS_TTL": args.redis_ttl, "ARSHIF_REDIS_BLOOM": args.redis_bloom}
    return [f"REDIS_URL={redis_url}", *(f"{name}={value}" for name, value in options.items() if value is not None)]


def cmd_crawl(args) -> int:
    _refuse_if_locked(args.db)
    overrides = [*_cluster_overrides(args), *args.set, *(["ARSHIF_REFRESH=True"] if args.refresh else [])]
    row = run_crawl(args.source, args.db, args.base_url, args.log_level, overrides, polite=not args.local)
    print(summary_line(row))
    if row.get("cluster_run"):
        print(f"cluster: run {row['cluster_run']}; {row['cluster_requeued']} requests of stopped workers requeued; "
              f"merge the shards with `arshif merge SHARD... --into ARCHIVE`")
    if row.get("warning"):
        print(f"arshif: warning: {row['warning']}", file=sys.stderr)
    if row["status"] != "finished":
        return 1
    found = row["stored"] + row["duplicate"] + row["already_archived"] + (row["skipped_archived"] or 0)
    candidates = found + sum(row.get(key) or 0 for key in ("not_article", "not_arabic", "too_old", "extraction_failed"))
    if row.get("cluster_run") and candidates == 0:
        return 0  # other workers of the run took the article pages
    if found == 0 and not row["not_modified"]:
        print(f"arshif: warning: source {row['source']} yielded no article at all", file=sys.stderr)
        return 2
    return 0


def cmd_demo(args) -> int:
    from crawler.demo.server import SiteServer

    _refuse_if_locked(args.db)
    try:
        server = SiteServer(port=args.port)
    except OSError:
        print(f"Port {args.port} is busy; serving the demo on another port (its URLs will be new to the archive)")
        server = SiteServer(port=0)
    with server as site:
        print(f"Serving the bundled demo site on {site.origin}/", flush=True)
        row = run_crawl("demo", args.db, site.origin, args.log_level, polite=False)
    print(summary_line(row))
    print(f"Archive: {args.db}  (browse it: arshif serve {args.db})")
    return 0 if row["status"] == "finished" else 1


def cmd_extract(args) -> int:
    from pipelines.extraction.article import ExtractionError
    from pipelines.extraction.records import make_record

    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"arshif extract: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    url = args.url or path.resolve().as_uri()
    try:
        record = make_record(body, url, args.content_type, source=args.source)
    except ExtractionError as exc:
        print(f"arshif extract: {path}: {exc}", file=sys.stderr)
        return 1
    json.dump(record, sys.stdout, ensure_ascii=False, indent=None if args.compact else 2)
    print()
    return 0


def cmd_serve(args) -> int:
    databases = [Path(db) for db in args.db or [DEFAULT_DB]]
    for db in databases:
        if not db.is_file():
            print(f"arshif serve: no archive at {db}; run `arshif demo` or `arshif crawl SOURCE` first", file=sys.stderr)
            return 2
    if args.immutable:
        import sqlite3

        for db in databases:
            _refuse_if_locked(str(db))
            with sqlite3.connect(db) as connection:  # immutable mode does not read the -wal file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    command = datasette_command([str(db) for db in databases], args.host, args.port, immutable=args.immutable)
    print("$ " + " ".join(command), flush=True)
    os.execvp(command[0], command)
    return 0


def datasette_command(db: str | list[str], host: str = "127.0.0.1", port: int = 8001, immutable: bool = False) -> list[str]:
    """`datasette serve` for one archive, or for several (a cluster's shards, joinable with --crossdb)."""
    databases = [db] if isinstance(db, str) else list(db)
    files = [part for path in databases for part in (["-i", path] if immutable else [path])]
    return [
        sys.executable, "-m", "datasette", "serve", *files, *(["--crossdb"] if len(databases) > 1 else []),
        "--metadata", str(DATASETTE_DIR / "metadata.yaml"),
        "--plugins-dir", str(DATASETTE_DIR / "plugins"),
        "--template-dir", str(DATASETTE_DIR / "templates"),
        "--static", f"arshif-static:{DATASETTE_DIR / 'static'}",
        "--setting", "sql_time_limit_ms", "3000",
        "--host", host, "--port", str(port),
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arshif", description="Archive Arabic news sites into SQLite.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="serve the bundled demo site on 127.0.0.1 and crawl it",
                          description="Example: arshif demo")
    demo.add_argument("--db", default=DEFAULT_DB)
    demo.add_argument("--port", type=int, default=DEMO_PORT,
                      help=f"port for the demo site (default {DEMO_PORT}, as in seeds/demo.toml, so re-runs see the same URLs)")
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(func=cmd_demo)

    crawl = sub.add_parser("crawl", help="crawl one source from seeds/",
                           description="Example: arshif crawl aljazeera --db data/archive.db\n"
                                       "Cluster worker: arshif crawl aljazeera --redis redis://10.0.0.5:6379/0 --db data/shard-1.db",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    crawl.add_argument("source", help="a name from seeds/ or a path to a source .toml file")
    crawl.add_argument("--db", default=DEFAULT_DB)
    crawl.add_argument("--base-url", help="point the source at another origin (a local copy of the site)")
    crawl.add_argument("--local", action="store_true", help="no AutoThrottle or delay (for local test sites)")
    crawl.add_argument("--refresh", action="store_true", help="download archived article pages again")
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

    extract = sub.add_parser("extract", help="print the record Arshif would store for a saved page",
                             description="Example: arshif extract page.html --url https://example.com/news/1")
    extract.add_argument("file")
    extract.add_argument("--url", help="the page's URL (default: the file's file:// URL)")
    extract.add_argument("--source", help="source name to record")
    extract.add_argument("--content-type", help="the Content-Type header the page was served with")
    extract.add_argument("--compact", action="store_true", help="one line of JSON")
    extract.set_defaults(func=cmd_extract)

    serve = sub.add_parser("serve", help="publish the archive with datasette on 127.0.0.1",
                           description="Example: arshif serve data/archive.db --port 8001\n"
                                       "A cluster's shards side by side: arshif serve data/shard-1.db data/shard-2.db",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("db", nargs="*", metavar="DB",
                       help=f"archives to publish (default {DEFAULT_DB}); several are joinable in SQL (--crossdb)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--immutable", action="store_true",
                       help="serve a finished archive as an immutable snapshot (checkpoints the WAL first; "
                            "refused while a crawl holds the archive)")
    serve.set_defaults(func=cmd_serve)

    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        from crawler.sources import SourceError

        if isinstance(exc, SourceError):
            print(f"arshif: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
