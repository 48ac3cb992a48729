"""Test-only: a gate on a SiteServer's requests, so a test acts at a known point of a crawl, not after a guessed time.

The first `passing` requests (of those `gated` picks by path, all by default) are answered; every later one
waits at the gate until the test opens it. A test
waits for the crawl to reach the gate (`wait_held`) and for what it needs to see (rows committed), then kills,
deletes or starts something, and the crawl cannot have gone further or finished in the meantime, however
loaded the machine is. ``with gate_requests(server, 10) as gate: ...`` (the gate opens when the block ends).
"""

from __future__ import annotations

import contextlib
import threading
import time

HANG_GUARD = 300  # seconds: only a hang gets here, never a slow machine


class Gate:
    def __init__(self, passing: int):
        self.passing = passing
        self.answered = 0  # requests let through
        self.held = 0  # requests waiting at the gate now
        self._opened = threading.Event()
        self._lock = threading.Condition()

    def enter(self) -> None:
        """Called by the handler before it answers: returns at once, or when the gate opens."""
        with self._lock:
            if self.answered < self.passing or self._opened.is_set():
                self.answered += 1
                return
            self.held += 1
            self._lock.notify_all()
        self._opened.wait()
        with self._lock:
            self.held -= 1
            self.answered += 1

    def wait_held(self, count: int = 1, timeout: float = HANG_GUARD) -> None:
        """Until `count` requests wait at the gate: the crawl has asked for more than the pages it was given."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.held >= count, timeout):
                raise AssertionError(f"no crawl reached the gate in {timeout} s ({self.answered} requests answered)")

    def open(self) -> None:
        self._opened.set()


@contextlib.contextmanager
def gate_requests(server, passing: int, gated=lambda path: True):
    """Put a gate in front of `server` (a crawler.demo.server.SiteServer) for the block; open it at the end.
    Only the requests whose path `gated(path)` is true count and wait; the others are answered at once."""
    gate = Gate(passing)
    plain = server.httpd.RequestHandlerClass

    def do_GET(handler, head: bool = False):
        if gated(handler.path):
            gate.enter()
        return plain.do_GET(handler, head)

    server.httpd.RequestHandlerClass = type("Gated", (plain,), {"do_GET": do_GET})
    try:
        yield gate
    finally:
        gate.open()
        server.httpd.RequestHandlerClass = plain


def wait_until(condition, what: str, timeout: float = HANG_GUARD, every: float = 0.05):
    """Poll `condition` (a callable) until it returns a true value, which is returned; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen in {timeout} s")
        time.sleep(every)
