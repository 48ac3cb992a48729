"""WorkerPool: extraction processes fed over socket pairs straight from the asyncio loop.

concurrent.futures.ProcessPoolExecutor hands every page across three threads of
the crawl process (the submitting thread, its manager thread, the call queue's
feeder thread) and every result back across two, and each hand-over costs a
wake-up and a turn of the GIL: 0.3-0.4 ms of the crawl process's CPU per page
(bench/throughput), on a machine whose cores the crawl fills. Here the reactor
thread writes each job to its worker's socket and reads the results when the
event loop sees them arrive: no extra thread in the crawl process.

Messages in both directions are pickles framed as multiprocessing.connection
frames them (a 4-byte big-endian length), so the worker reads and writes with
Connection.recv_bytes/send_bytes. A worker exits at end of file: when the pool
closes its socket, or when the crawl process dies and the kernel closes it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import pickle
import signal
import socket
import traceback
from multiprocessing.connection import Connection

logger = logging.getLogger(__name__)

_HEADER = 4
_READ_SIZE = 256 * 1024  # asyncio's own read size
_MAX_FRAME = 0x7FFFFFFF  # multiprocessing's 4-byte frames; pages are capped far below (DOWNLOAD_MAXSIZE)


class WorkerDied(Exception):
    """The worker process ended (killed, out of memory, a crash in C code) before it answered."""


def serve(sock: socket.socket) -> None:
    """A worker's loop: (job, function, args) in, (job, ok, payload, traceback) out, until end of file.

    The payload is the result or the exception, pickled on its own so that one the crawl
    process cannot unpickle fails only its job. Ctrl-C reaches the whole process group; the
    worker ignores it, so the pages Scrapy still waits for while it shuts down gracefully get
    extracted. End of file stops it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(sock.detach())
    while True:
        try:
            job, function, args = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):  # closed, or closed in the middle of a job nobody waits for
            return
        try:
            ok, value, trace = True, function(*args), None
        except Exception as exc:  # the caller gets the exception, as from a future
            ok, value, trace = False, exc, traceback.format_exc()
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result or exception still answers the job
            ok, payload = False, pickle.dumps(RuntimeError(f"unpicklable answer: {exc!r}"))
        connection.send_bytes(pickle.dumps((job, ok, payload, trace), protocol=pickle.HIGHEST_PROTOCOL))


class RemoteTraceback(Exception):
    """The worker's traceback, as the __cause__ of the exception it raised (as concurrent.futures does)."""

    def __str__(self) -> str:
        return self.args[0]


class _Answers(asyncio.BufferedProtocol):
    """The crawl's end of one worker's socket: reads framed answers and settles their futures.

    The socket is read into one buffer kept for the worker's life: a new bytes object for every
    read (asyncio.Protocol) fragmented the crawl process's heap, +40 MB over 10,000 pages.
    """

    def __init__(self, worker: _Worker):
        self.worker = worker
        self.buffer = bytearray(_READ_SIZE)
        self.filled = 0  # bytes of self.buffer holding data not yet read as answers
        self.needed = 0  # bytes the next answer needs in the buffer (when it is larger than the buffer)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.needed > len(self.buffer):
            self.buffer.extend(bytes(self.needed - len(self.buffer)))
        return memoryview(self.buffer)[self.filled:]

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes
        start = 0
        with memoryview(self.buffer) as view:
            while self.filled - start >= _HEADER:
                end = start + _HEADER + int.from_bytes(view[start:start + _HEADER], "big", signed=True)
                if end > self.filled:
                    break
                self._settle(*pickle.loads(view[start + _HEADER:end]))
                start = end
        if start:  # keep the incomplete rest at the front
            self.buffer[:self.filled - start] = self.buffer[start:self.filled]
            self.filled -= start
        # the whole of the next answer must fit, however large (get_buffer grows the buffer)
        self.needed = _HEADER + int.from_bytes(self.buffer[:_HEADER], "big", signed=True) if self.filled >= _HEADER else 0

    def _settle(self, job: int, ok: bool, payload: bytes, trace: str | None) -> None:
        future = self.worker.pending.pop(job, None)
        if future is None or future.done():
            return
        try:
            value = pickle.loads(payload)
        except Exception as exc:
            future.set_exception(RuntimeError(f"unreadable answer from the extraction worker: {exc!r}"))
            return
        if ok:
            future.set_result(value)
        else:
            if trace:
                value.__cause__ = RemoteTraceback(f"\n\"\"\"\n{trace}\"\"\"")
            future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.lost()


class _Worker:
    """One worker process, its socket and the futures of the jobs it was sent."""

    def __init__(self, context):
        self.sock, child = socket.socketpair()
        self.process = context.Process(target=serve, args=(child,), daemon=True, name="arshif-extract")
        self.process.start()
        child.close()
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.alive = True
        self.loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future | None = None

    async def connect(self) -> None:
        """Hand the socket to the running event loop, once however many jobs wait for it."""
        if self._connecting is None:
            self.sock.setblocking(False)
            self.loop = asyncio.get_running_loop()
            self._connecting = asyncio.ensure_future(
                self.loop.create_connection(lambda: _Answers(self), sock=self.sock))
        self.transport, _ = await asyncio.shield(self._connecting)

    def send(self, job: int, message: bytes, future: asyncio.Future) -> None:
        if not self.alive:  # died while the job waited for the connection
            future.set_exception(WorkerDied(f"extraction worker {self.process.pid} ended"))
            return
        self.pending[job] = future
        self.transport.write(len(message).to_bytes(_HEADER, "big", signed=True))
        self.transport.write(message)  # not joined to the header: no second copy of the page

    def _retire(self) -> list[asyncio.Future]:
        """No more jobs for this worker: the futures of those it still had."""
        self.alive = False
        pending, self.pending = self.pending, {}
        return [future for future in pending.values() if not future.done()]

    def lost(self) -> None:
        """The socket closed: every job still pending fails (close() has cancelled its own first)."""
        for future in self._retire():
            future.set_exception(WorkerDied(f"extraction worker {self.process.pid} ended"))

    def close(self, timeout: float) -> None:
        """End of file to the worker now (not at the loop's next turn), then wait for it to exit.

        Jobs still pending are cancelled and the worker killed: nobody reads its answers any more.
        Scrapy closes the pipeline once the scraper is idle, so a crawl ends with none pending.
        """
        pending = self._retire()
        for future in pending:
            future.cancel()
        if pending and self.process.is_alive():
            self.process.kill()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:  # already closed
            pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        try:
            if self.transport is not None:
                self.transport.abort()
        except RuntimeError:  # its event loop is closed already
            pass
        self.sock.close()


class WorkerPool:
    """`await pool.run(function, *args)` in one of `workers` processes (forkserver: no inherited state).

    A worker that dies fails its pending jobs with WorkerDied and is replaced at the next run.
    """

    def __init__(self, workers: int, start_method: str = "forkserver"):
        self.context = multiprocessing.get_context(start_method)
        self.workers: list[_Worker] = [_Worker(self.context) for _ in range(workers)]
        self._jobs = itertools.count()

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid for worker in self.workers]

    async def run(self, function, *args):
        """function(*args) in a worker: its result, or the exception it raised, or WorkerDied."""
        if not self.workers:
            raise RuntimeError("the pool is closed")
        for index, worker in enumerate(self.workers):
            if not worker.alive:  # died: a new process takes its place
                self.workers[index] = self._replace(worker)
        if any(worker.transport is None for worker in self.workers):  # the first jobs: connect them all
            await asyncio.gather(*(worker.connect() for worker in self.workers))
        worker = min(self.workers, key=lambda w: len(w.pending))
        if worker.loop is not asyncio.get_running_loop():
            raise RuntimeError("the pool serves the event loop it first ran on")
        message = pickle.dumps((job := next(self._jobs), function, args), protocol=pickle.HIGHEST_PROTOCOL)
        if len(message) > _MAX_FRAME:
            raise ValueError(f"job of {len(message)} bytes is over the pool's frame limit")
        future = worker.loop.create_future()
        worker.send(job, message, future)
        return await future

    def _replace(self, dead: _Worker) -> _Worker:
        logger.warning("Extraction worker %s ended (exit code %s); starting a new one",
                       dead.process.pid, dead.process.exitcode)
        if dead.process.is_alive():  # its connection failed, not the process: it has to go too
            dead.process.kill()
        dead.close(timeout=1)
        return _Worker(self.context)

    def close(self, timeout: float = 30) -> None:
        """Stop every worker: each exits at end of file (killed if jobs were still pending)."""
        for worker in self.workers:
            worker.close(timeout)
        self.workers = []
