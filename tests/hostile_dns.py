"""A crawl under hostile DNS, in a process of its own: `python -m tests.hostile_dns SOURCE DB REPORT`.

The system resolver is replaced by a stub that answers a different address on each
query for `rebind.example` (a public address first, 127.0.0.1 after): the answer
every resolver in the process gets, Scrapy's and Arshif's alike. No packet may
leave loopback, so connections to anything but 127.0.0.0/8 and ::1 are diverted to a
closed loopback port (refused at once) and recorded; the public answer is never
contacted.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys

HOST = "rebind.example"
PUBLIC = "93.184.216.34"
ANSWERS = [PUBLIC, "127.0.0.1"]


def main() -> None:
    source, db, report = sys.argv[1:4]
    queries: list[str] = []
    diverted: list[str] = []
    real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname

    def answer(host: str) -> str:
        queries.append(host)
        return ANSWERS[min(len(queries) - 1, len(ANSWERS) - 1)]

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answer(host), port or 0))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def gethostbyname(host):
        return answer(host) if host == HOST else real_gethostbyname(host)

    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused
    refused_port = closed.getsockname()[1]

    from twisted.internet.posixbase import PosixReactorBase

    real_connect = PosixReactorBase.connectTCP

    def connectTCP(self, host, port, factory, timeout=30, bindAddress=None):
        if not ipaddress.ip_address(host).is_loopback:
            diverted.append(host)
            host, port = "127.0.0.1", refused_port
        return real_connect(self, host, port, factory, timeout, bindAddress)

    PosixReactorBase.connectTCP = connectTCP

    from crawler.cli.common import run_crawl

    row = run_crawl(source, db, None, "INFO", ["RETRY_TIMES=0", "ROBOTSTXT_OBEY=False"], polite=False)
    with open(report, "w", encoding="utf-8") as out:
        json.dump({"queries": queries, "diverted": diverted, "faults": row.get("faults"),
                   "pages_fetched": row["pages_fetched"]}, out)


if __name__ == "__main__":
    main()
