"""`arshif demo`: serve the bundled demo site on 127.0.0.1 and crawl it into the archive."""

from __future__ import annotations

from crawler.cli.common import DEFAULT_DB, DEMO_PORT, refuse_if_locked, run_crawl, summary_line


def register(sub) -> None:
    demo = sub.add_parser("demo", help="serve the bundled demo site on 127.0.0.1 and crawl it",
                          description="Example: arshif demo")
    demo.add_argument("--db", default=DEFAULT_DB)
    demo.add_argument("--port", type=int, default=DEMO_PORT,
                      help=f"port for the demo site (default {DEMO_PORT}, as in seeds/demo.toml, so re-runs see the same URLs)")
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from crawler.demo.server import SiteServer
    from pipelines.archive.checks import check_archive_path

    check_archive_path(args.db)  # someone else's file: exit 4 before the lock file is made
    refuse_if_locked(args.db)
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
