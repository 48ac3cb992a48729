"""Serve a generated site in its own process: `python -m bench.throughput.serve ROOT [PORT [BACKLOG]]`.

Reuses crawler.demo.server.SiteServer (threaded, `__BASE_URL__` replaced by its
origin), with HTTP/1.1 keep-alive as a news site's server has: without it every
request costs the crawler and the server a new TCP connection. Prints the origin on the first line of stdout, then serves until its
standard input closes or it gets SIGTERM, so the crawler's CPU and the
server's are measured apart (they still share the machine's cores).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crawler.demo.server import SiteServer

BACKLOG = 128


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0])
    port = int(argv[1]) if len(argv) > 1 else 0
    backlog = int(argv[2]) if len(argv) > 2 else BACKLOG
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SiteServer(root, port=port, keep_alive=True) as site:
        if backlog:
            # socketserver listens with a backlog of 5; 32 concurrent connects overflow it (SYN retried after 1 s)
            site.httpd.socket.listen(backlog)
        print(site.origin, flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
