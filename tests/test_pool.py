"""WorkerPool: real worker processes, real sockets, a real asyncio loop."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import time

import pytest

from crawler.demo.server import DEMO_SITE
from pipelines.extraction.pool import WorkerDied, WorkerPool
from pipelines.extraction.worker import extract_page

DEMO_ARTICLE = DEMO_SITE / "articles" / "1001.html"


def _fail(message: str):
    raise ValueError(message)


class _TwoArgumentError(Exception):
    """Pickles, but does not unpickle (its __init__ needs two arguments; args holds one)."""

    def __init__(self, first, second):
        super().__init__(f"{first} {second}")


def _unreadable_answer():
    raise _TwoArgumentError("cannot", "unpickle")


def _sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


async def _until(condition, timeout: float = 300) -> None:
    """Let the event loop run until `condition()` holds (the timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not seen in time"
        await asyncio.sleep(0.02)


def _wait_gone(pid: int, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def test_results_equal_the_same_call_in_this_process_and_exceptions_come_back():
    body = DEMO_ARTICLE.read_bytes()
    args = (body, "http://127.0.0.1/articles/1001.html", "text/html", "demo", "2026-11-23T00:00:00+00:00", (), {}, 40)

    async def main():
        pool = WorkerPool(2)
        try:
            answers = await asyncio.gather(*(pool.run(extract_page, *args) for _ in range(6)))
            with pytest.raises(ValueError, match="bad page") as raised:
                await pool.run(_fail, "bad page")
            assert "in _fail" in str(raised.value.__cause__)  # the worker's own traceback
            with pytest.raises(RuntimeError, match="unreadable answer"):
                await pool.run(_unreadable_answer)
            pids = set(await asyncio.gather(*(pool.run(_sleep_then_pid, 0.2) for _ in range(4))))
            return answers, pids, pool.pids
        finally:
            pool.close()

    answers, pids, pool_pids = asyncio.run(main())
    here = extract_page(*args)
    assert here[0]["is_article"] and here[0]["text"]
    assert all(pickle.dumps(answer) == pickle.dumps(here) for answer in answers)
    assert pids == set(pool_pids) and os.getpid() not in pids  # both workers took jobs


def test_a_dead_worker_is_replaced_while_the_others_live():
    async def main():
        pool = WorkerPool(3)
        try:
            first = await asyncio.gather(*(pool.run(_sleep_then_pid, 0.2) for _ in range(6)))
            victim = pool.pids[1]
            os.kill(victim, signal.SIGKILL)
            await _until(lambda: not pool.workers[1].alive)  # the loop has seen its socket close
            later = await asyncio.gather(*(pool.run(_sleep_then_pid, 0.2) for _ in range(6)))
            return set(first), victim, set(later), pool.pids
        finally:
            pool.close()

    first, victim, later, pids = asyncio.run(main())
    assert len(first) == 3  # every worker took jobs from the start
    assert victim not in pids and len(set(pids)) == 3 and later == set(pids)


def test_a_killed_worker_fails_its_jobs_and_a_new_one_takes_the_next():
    async def main():
        pool = WorkerPool(1)
        try:
            first = await pool.run(os.getpid)
            pending = [asyncio.ensure_future(pool.run(_sleep_then_pid, 5)) for _ in range(3)]
            await _until(lambda: len(pool.workers[0].pending) == 3)  # all three sent to the one worker
            os.kill(first, signal.SIGKILL)
            outcomes = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 300)
            second = await asyncio.wait_for(pool.run(os.getpid), 300)
            return first, outcomes, second
        finally:
            pool.close()

    first, outcomes, second = asyncio.run(main())
    assert all(isinstance(outcome, WorkerDied) for outcome in outcomes)
    assert second != first


def test_close_with_jobs_pending_cancels_them_without_waiting_for_them():
    async def main():
        pool = WorkerPool(2)
        await asyncio.gather(*(pool.run(os.getpid) for _ in range(2)))
        pending = [asyncio.ensure_future(pool.run(_sleep_then_pid, 20)) for _ in range(4)]
        workers = list(pool.workers)
        await _until(lambda: all(worker.pending for worker in workers))  # both workers have their jobs
        started = time.monotonic()
        pool.close()
        return pending, workers, time.monotonic() - started

    pending, workers, seconds = asyncio.run(main())
    # not waited for: the workers were killed, not left to finish their 20-second jobs (the time is far from
    # both: a loaded machine cannot flip it)
    assert [worker.process.exitcode for worker in workers] == [-signal.SIGKILL] * 2
    assert seconds < 15 and all(task.cancelled() for task in pending)


def test_close_lets_workers_exit_and_a_closed_pool_refuses_work():
    async def main():
        pool = WorkerPool(2)
        pids = list(await asyncio.gather(*(pool.run(os.getpid) for _ in range(4))))
        pool.close()
        with pytest.raises(RuntimeError, match="closed"):
            await pool.run(os.getpid)
        return set(pids)

    pids = asyncio.run(main())
    assert pids and all(_wait_gone(pid) for pid in pids)


def test_a_worker_exits_when_the_crawl_process_is_killed(tmp_path):
    """The kernel closes the dead process's socket: the worker reads end of file and exits."""
    import subprocess
    import sys

    script = (
        "import asyncio, os, sys, time\n"
        "from pipelines.extraction.pool import WorkerPool\n"
        "async def main():\n"
        "    pool = WorkerPool(1)\n"
        "    print(await pool.run(os.getpid), flush=True)\n"
        "    time.sleep(60)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n"
    )
    (tmp_path / "crawl.py").write_text(script)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen([sys.executable, str(tmp_path / "crawl.py")], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": root})
    worker = int(process.stdout.readline())
    process.kill()
    process.wait()
    assert _wait_gone(worker)


def _large(size: int) -> bytes:
    return b"\xd8\xb9" * (size // 2)


def test_answers_larger_than_the_read_buffer_and_many_small_ones_arrive_whole():
    """Answers cross read boundaries: one of 3 MB (over the 256 KB buffer), then many at once."""

    async def main():
        pool = WorkerPool(1)
        try:
            big = await pool.run(_large, 3_000_000)
            many = await asyncio.gather(*(pool.run(_large, size) for size in range(0, 40_000, 97)))
            return big, many
        finally:
            pool.close()

    big, many = asyncio.run(main())
    assert big == _large(3_000_000)
    assert many == [_large(size) for size in range(0, 40_000, 97)]


def test_ctrl_c_leaves_workers_running_for_the_graceful_shutdown():
    """Ctrl-C goes to the whole process group; Scrapy then waits for pages the workers still have."""

    async def main():
        pool = WorkerPool(1)
        try:
            pid = await pool.run(os.getpid)
            os.kill(pid, signal.SIGINT)
            await asyncio.sleep(0.3)
            return pid, await asyncio.wait_for(pool.run(os.getpid), 300)
        finally:
            pool.close()

    before, after = asyncio.run(main())
    assert before == after
