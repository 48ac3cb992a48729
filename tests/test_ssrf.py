"""Server-side request forgery: hostile DNS, special-purpose ranges, address spellings, proxies.

All traffic stays on 127.0.0.0/8: the public address a stub resolver answers is
never contacted (tests/hostile_dns.py diverts it to a closed loopback port).
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.resolver import Allowances, CheckedResolver, address_problem, parse_address
from tests.conftest import PROJECT_DIR
from tests.loopback_counter import CountingServer

# one address from every range of IANA's IPv4 and IPv6 special-purpose address registries,
# plus multicast; each with the kind it is refused as
SPECIAL = [
    ("0.0.0.0", "loopback"), ("0.1.2.3", "loopback"), ("10.1.2.3", "private"),
    ("100.64.0.1", "private"), ("100.100.100.200", "private"), ("100.127.255.254", "private"),
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("169.254.169.254", "link-local"),
    ("172.16.0.1", "private"), ("172.31.255.254", "private"), ("192.0.0.1", "private"),
    ("192.0.0.8", "private"), ("192.0.0.9", "private"), ("192.0.0.10", "private"),
    ("192.0.0.170", "private"), ("192.0.0.171", "private"), ("192.0.2.1", "private"),
    ("192.31.196.1", "private"), ("192.52.193.1", "private"), ("192.88.99.1", "private"),
    ("192.168.1.1", "private"), ("192.175.48.1", "private"), ("198.18.0.1", "private"),
    ("198.19.255.254", "private"), ("198.51.100.1", "private"), ("203.0.113.1", "private"),
    ("224.0.0.1", "private"), ("239.255.255.250", "private"), ("240.0.0.1", "private"),
    ("255.255.255.255", "private"),
    ("::", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:0.0.0.0", "loopback"), ("::ffff:169.254.169.254", "link-local"), ("::ffff:10.0.0.1", "private"),
    ("::127.0.0.1", "loopback"), ("::10.0.0.1", "private"), ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("64:ff9b:1::1", "private"), ("100::1", "private"),
    ("100:0:0:1::1", "private"), ("2001::1", "private"), ("2001:1::1", "private"), ("2001:2::1", "private"),
    ("2001:3::1", "private"), ("2001:4:112::1", "private"), ("2001:10::1", "private"), ("2001:20::1", "private"),
    ("2001:30::1", "private"), ("2001:db8::1", "private"), ("2002:7f00:1::", "loopback"),
    ("2002:a00:1::", "private"), ("2620:4f:8000::1", "private"), ("3fff::1", "private"), ("5f00::1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("fec0::1", "private"),
    ("ff02::1", "private"),
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "100.63.255.255", "100.128.0.1", "2a00:1450:4001::1",
          "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
# every way of writing 127.0.0.1 that the system resolver (inet_aton) or a URL parser takes
LOOPBACK_SPELLINGS = ["127.0.0.1", "2130706433", "0177.0.0.1", "0x7f000001", "0x7f.0.0.1", "127.1", "127.0.1",
                      "017700000001", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]",
                      "[::1]", "0.0.0.0", "0", "[::]"]


@pytest.mark.parametrize("address, kind", SPECIAL)
def test_every_special_purpose_range_is_refused(address, kind):
    assert address_problem(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_loopback(host):
    address = parse_address(host)
    assert address is not None, host
    assert address_problem(address) == "loopback"
    from crawler.middlewares import _address_problem

    assert _address_problem(host) == "loopback"


def test_private_addresses_allowed_do_not_open_loopback():
    """allow_private_addresses without allow_loopback: 0.0.0.0 and ::ffff:127.0.0.1 are still refused."""
    private_only = Allowances(loopback=False, private=True)
    for host in ("0.0.0.0", "[::ffff:127.0.0.1]", "[::]", "0x7f000001"):
        assert not private_only.permit(address_problem(parse_address(host))), host
    assert private_only.permit(address_problem(parse_address("10.0.0.1")))
    assert private_only.permit(address_problem(parse_address("100.100.100.200")))


class _Receiver:
    def __init__(self):
        self.addresses, self.done = [], False

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append(address.host)

    def resolutionComplete(self):
        self.done = True


class _Reactor:
    """Enough of a reactor for lookups of literals and cached names (no thread needed)."""


def test_the_resolver_hands_connections_only_checked_addresses():
    resolver = CheckedResolver(_Reactor())
    resolver._answers["mixed.example"] = tuple(map(ipaddress.ip_address, ["93.184.216.34", "127.0.0.1",
                                                                          "100.100.100.200", "::ffff:127.0.0.1"]))
    for host, allowances, expected in [
        ("mixed.example", Allowances(), ["93.184.216.34"]),
        ("mixed.example", Allowances(loopback=True), ["93.184.216.34", "127.0.0.1", "127.0.0.1"]),
        ("mixed.example", Allowances(private=True), ["93.184.216.34", "100.100.100.200"]),
        ("100.100.100.200", Allowances(), []),
        ("169.254.169.254", Allowances(loopback=True), []),
        ("0.0.0.0", Allowances(private=True), []),
    ]:
        resolver.allow("crawl", allowances)
        receiver = _Receiver()
        resolver.resolveHostName(receiver, host, 80)
        assert receiver.done and receiver.addresses == expected, (host, receiver.addresses)


def test_several_crawls_connect_to_what_their_own_check_passed():
    """`crawl --all` with the demo (loopback allowed) and strict sources: the demo reaches 127.0.0.1,
    and a host a strict crawl's check passed stays strict at connect time (a later answer cannot rebind it)."""
    resolver = CheckedResolver(_Reactor())
    strict, demo = Allowances(), Allowances(loopback=True)
    resolver.allow("news-site", strict)
    resolver.allow("demo", demo)
    resolver._answers["shared.example"] = tuple(map(ipaddress.ip_address, ["93.184.216.34", "127.0.0.1"]))

    def connect(host):
        receiver = _Receiver()
        resolver.resolveHostName(receiver, host, 80)
        return receiver.addresses

    assert connect("127.0.0.1") == []  # no crawl's check passed it: every crawl's rules, the strict one refuses
    resolver.passed("127.0.0.1", demo)
    assert connect("127.0.0.1") == ["127.0.0.1"]
    resolver.passed("shared.example", demo)
    assert connect("shared.example") == ["93.184.216.34", "127.0.0.1"]
    resolver.passed("shared.example", strict)  # a strict crawl asks for the same host: loopback refused for all
    assert connect("shared.example") == ["93.184.216.34"]


@pytest.fixture
def server():
    counting = CountingServer()
    yield counting
    counting.close()


def _source(folder: Path, start_urls: list[str], domains: list[str], **allow) -> Path:
    lines = ['name = "hostile"', f'site_url = "{start_urls[0]}"', f"start_urls = {json.dumps(start_urls)}",
             f"allowed_domains = {json.dumps(domains)}", "discover_sitemaps = false"]
    lines += [f"{key} = {str(value).lower()}" for key, value in allow.items()]
    path = folder / "hostile.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dns_rebinding_never_reaches_loopback(tmp_path, server):
    """The name answers a public address first and 127.0.0.1 after: the check and the connection use the first."""
    source = _source(tmp_path, [f"http://rebind.example:{server.port}/"], ["rebind.example"])
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "tests.hostile_dns", str(source), str(tmp_path / "a.db"), str(report)],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(report.read_text())
    assert server.connections == 0, outcome
    assert outcome["queries"] == ["rebind.example"]  # one lookup, shared by the check and the connection
    assert outcome["diverted"] and set(outcome["diverted"]) == {"93.184.216.34"}  # the checked answer
    assert outcome["pages_fetched"] == 0


def _crawl(source: Path, db: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli.main", "crawl", str(source), "--db", str(db), "--local",
                           "-s", "RETRY_TIMES=0", "-s", "ROBOTSTXT_OBEY=False", *extra],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, env=env)


def _faults(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return json.loads(conn.execute("SELECT faults FROM crawls ORDER BY id DESC LIMIT 1").fetchone()[0])


def test_private_allowance_does_not_reach_loopback_through_other_spellings(tmp_path, server):
    urls = [f"http://0.0.0.0:{server.port}/", f"http://[::ffff:127.0.0.1]:{server.port}/",
            f"http://2130706433:{server.port}/", f"http://0x7f000001:{server.port}/", f"http://127.1:{server.port}/"]
    source = _source(tmp_path, urls, [], allow_private_addresses=True)
    result = _crawl(source, tmp_path / "a.db")
    assert server.connections == 0, result.stderr[-3000:]
    assert _faults(tmp_path / "a.db") == {"unsafe_address": len(urls)}


def test_proxy_from_the_environment_is_ignored(tmp_path, server):
    """http_proxy in the environment: names that do not resolve here do not go to that proxy."""
    source = _source(tmp_path, ["http://metadata.google.internal/computeMetadata/v1/"], ["metadata.google.internal"])
    env = {**os.environ, "http_proxy": f"http://127.0.0.1:{server.port}", "https_proxy": f"http://127.0.0.1:{server.port}"}
    result = _crawl(source, tmp_path / "a.db", env=env)
    assert server.connections == 0, result.stderr[-3000:]


def test_a_configured_proxy_is_used_and_its_targets_are_checked(tmp_path, server):
    proxy = f"http://127.0.0.1:{server.port}"
    unresolvable = _source(tmp_path, ["http://metadata.google.internal/computeMetadata/v1/"], ["metadata.google.internal"])
    result = _crawl(unresolvable, tmp_path / "a.db", "-s", f"ARSHIF_PROXY={proxy}")
    assert server.connections == 0, result.stderr[-3000:]
    assert _faults(tmp_path / "a.db") == {"unsafe_address": 1}
    metadata = _source(tmp_path, ["http://169.254.169.254/latest/meta-data/"], ["169.254.169.254"])
    result = _crawl(metadata, tmp_path / "b.db", "-s", f"ARSHIF_PROXY={proxy}")
    assert server.connections == 0, result.stderr[-3000:]
    assert _faults(tmp_path / "b.db") == {"unsafe_address": 1}
    public = _source(tmp_path, ["http://93.184.216.34/"], ["93.184.216.34"])  # goes to the (loopback) proxy only
    _crawl(public, tmp_path / "c.db", "-s", f"ARSHIF_PROXY={proxy}")
    assert server.connections >= 1


def test_telnet_console_is_off(tmp_path, server):
    """No remote-control endpoint: the extension refuses to start and a crawl logs no telnet port or password."""
    from types import SimpleNamespace

    from scrapy.exceptions import NotConfigured
    from scrapy.extensions.telnet import TelnetConsole

    from crawler.cli.common import crawl_settings

    settings = crawl_settings(":memory:", "INFO")
    with pytest.raises(NotConfigured):
        TelnetConsole(SimpleNamespace(settings=settings))
    source = _source(tmp_path, [f"http://127.0.0.1:{server.port}/"], ["127.0.0.1"], allow_loopback=True)
    result = _crawl(source, tmp_path / "a.db")
    assert server.connections >= 1  # the crawl ran
    assert "Telnet" not in result.stderr and "TelnetConsole" not in result.stderr


def test_only_handlers_that_use_the_checked_resolver_are_accepted():
    from scrapy.settings import Settings

    from crawler.middlewares import _refuse_unchecked_handlers

    _refuse_unchecked_handlers(Settings({"DOWNLOAD_HANDLERS_BASE": {"http": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"}}))
    with pytest.raises(ValueError, match="checked resolver"):
        _refuse_unchecked_handlers(Settings({"DOWNLOAD_HANDLERS": {"https": "scrapy.core.downloader.handlers._httpx.HttpxDownloadHandler"}}))
