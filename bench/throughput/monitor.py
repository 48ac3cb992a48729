"""Sample a process tree from /proc: CPU seconds and resident memory (Linux only, no psutil).

`TreeMonitor(pid)` samples the process and all its descendants every
`interval` seconds in a thread. CPU is the sum, over every process ever seen, of
its last sampled user+system time (its own, not its reaped children's, so
nothing is counted twice); a process loses at most one interval of CPU after
its last sample. Memory is the peak over samples of the summed RSS (what `ps`
shows; pages shared by forked workers are counted once per process) and of the
summed PSS (shared pages divided among their users: the honest total).
The root process's main thread (the crawl's reactor) is also sampled on its
own: it is the one part of the crawl that cannot use more than one core.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(ppid, user+system seconds, rss bytes) of one process, or None if it is gone."""
    return _stat_path(f"/proc/{pid}/stat")


def _stat_path(path: str) -> tuple[int, float, int] | None:
    """(ppid, user+system seconds, rss bytes) from a process's or a thread's stat file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()  # after "pid (comm) "
    ppid = int(fields[1])
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    rss = int(fields[21]) * _PAGE
    return ppid, cpu, rss


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _thread_name(pid: int, tid: str) -> str:
    try:
        with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = _stat(int(name))
        if stat is not None:
            children.setdefault(stat[0], []).append(int(name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _role(pid: int) -> str:
    """What a process of the tree is: a pool worker, the forkserver, the resource tracker, or other."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "gone"
    if "forkserver" in command:
        return "forkserver"  # its forked children keep its command line: told apart by parent below
    if "resource_tracker" in command:
        return "resource_tracker"
    return "other"


@dataclass
class TreeMonitor:
    root: int
    interval: float = 0.2
    with_pss: bool = True
    cpu_by_pid: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    peak_pss: int = 0
    peak_processes: int = 0
    samples: int = 0
    rss_series: list[tuple[float, int]] = field(default_factory=list)
    cpu_series: list[tuple[float, float, float]] = field(default_factory=list)  # (s, tree CPU s, reactor thread CPU s)
    peak_rss_by_pid: dict[int, int] = field(default_factory=dict)
    role_by_pid: dict[int, str] = field(default_factory=dict)
    parent_by_pid: dict[int, int] = field(default_factory=dict)
    root_main_thread_cpu: float = 0.0  # user+system seconds of the root's main thread (tid == pid)
    root_thread_cpu: dict[str, float] = field(default_factory=dict)  # "tid name" → CPU seconds, every root thread

    def __post_init__(self):
        self._thread_names: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def start(self) -> TreeMonitor:
        self._thread.start()
        return self

    def stop(self) -> TreeMonitor:
        self._stop.set()
        self._thread.join()
        return self

    def sample(self) -> None:
        rss = pss = 0
        pids = descendants(self.root)
        for pid in pids:
            stat = _stat(pid)
            if stat is None:
                continue
            self.cpu_by_pid[pid] = stat[1]
            rss += stat[2]
            self.peak_rss_by_pid[pid] = max(self.peak_rss_by_pid.get(pid, 0), stat[2])
            if pid not in self.role_by_pid:
                self.role_by_pid[pid] = "main" if pid == self.root else _role(pid)
                self.parent_by_pid[pid] = stat[0]
            if self.with_pss:
                pss += _pss(pid)
        self._sample_root_threads()
        self.samples += 1
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_processes = max(self.peak_processes, len(pids))
        moment = round(time.monotonic() - self._started, 2)
        self.rss_series.append((round(moment, 1), rss))
        self.cpu_series.append((moment, self.cpu_seconds, self.root_main_thread_cpu))

    def _sample_root_threads(self) -> None:
        try:
            tids = os.listdir(f"/proc/{self.root}/task")
        except OSError:
            return
        for tid in tids:
            stat = _stat_path(f"/proc/{self.root}/task/{tid}/stat")
            if stat is None:
                continue
            if tid == str(self.root):
                self.root_main_thread_cpu = stat[1]
            if tid not in self._thread_names:  # a thread's name is read once, not every sample
                self._thread_names[tid] = _thread_name(self.root, tid)
            self.root_thread_cpu[f"{tid} {self._thread_names[tid]}"] = stat[1]

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def by_role(self) -> dict[str, dict]:
        """Peak RSS (MB) and CPU seconds per kind of process; pool workers are the forkserver's children."""
        parents = self.parent_by_pid
        roles: dict[str, dict] = {}
        for pid, role in self.role_by_pid.items():
            if role == "forkserver" and self.role_by_pid.get(parents.get(pid)) == "forkserver":
                role = "worker"
            entry = roles.setdefault(role, {"processes": 0, "peak_rss_mb": [], "cpu_seconds": 0.0})
            entry["processes"] += 1
            entry["peak_rss_mb"].append(round(self.peak_rss_by_pid.get(pid, 0) / 2**20, 1))
            entry["cpu_seconds"] = round(entry["cpu_seconds"] + self.cpu_by_pid.get(pid, 0.0), 2)
        return roles

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_pid.values())

    def busy_cores(self, parts: int = 10) -> list[tuple[float, float]]:
        """Cores the tree and its reactor thread kept busy in each of `parts` equal spans of the run:
        where the measured rate falls short of the CPU-bound one (start-up, the end, stalls)."""
        series = self.cpu_series
        if len(series) < 2:
            return []
        start, end = series[0][0], series[-1][0]
        spans = []
        for part in range(parts):
            lo, hi = start + (end - start) * part / parts, start + (end - start) * (part + 1) / parts
            inside = [s for s in series if lo <= s[0] <= hi]
            if len(inside) < 2 or inside[-1][0] == inside[0][0]:
                continue
            seconds = inside[-1][0] - inside[0][0]
            spans.append((round((inside[-1][1] - inside[0][1]) / seconds, 2), round((inside[-1][2] - inside[0][2]) / seconds, 2)))
        return spans
