"""Run `arshif crawl` in a child process and read its peak RSS (VmHWM) and wall time.

The child is `python bench/archive_size/measure.py --child ...` (run as a script, in the code's folder): it registers an
atexit hook that writes its own VmHWM from /proc/self/status, then runs the
CLI in-process (`crawler.cli`), so the figure is the crawl process's own peak
(ru_maxrss would carry over exec). The parent also samples VmHWM every 0.2 s,
and kills the child past `limit_mb` (a baseline that would eat the machine).
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path


def vm_hwm_kb(pid: int | str = "self") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args: list[str], cwd: Path, limit_mb: int = 3000, timeout: float = 600, env: dict | None = None) -> dict:
    """Run `arshif ARGS` with the code at `cwd` imported; wall time, peak RSS (MB), exit code, and whether it was killed."""
    out = Path(f"/tmp/arshif-measure-{os.getpid()}-{time.monotonic_ns()}.json")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(out), *args]
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(cwd)}
    started = time.monotonic()
    log = out.with_suffix(".log").open("w+")  # a file, not a pipe: a chatty child never blocks on a full pipe
    process = subprocess.Popen(command, cwd=cwd, env=child_env, stdout=log, stderr=subprocess.STDOUT, text=True)
    peak, killed = 0, None
    while process.poll() is None:
        peak = max(peak, vm_hwm_kb(process.pid))
        elapsed = time.monotonic() - started
        if peak > limit_mb * 1024 or elapsed > timeout:
            killed = f"killed at {elapsed:.0f} s ({peak // 1024} MB)"
            process.kill()
            break
        time.sleep(0.2)
    process.wait()
    wall = time.monotonic() - started
    log.seek(0)
    output = log.read()
    log.close()
    Path(log.name).unlink()
    if out.exists():
        peak = max(peak, json.loads(out.read_text())["vm_hwm_kb"])
        out.unlink()
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak / 1024), "returncode": process.returncode,
            "killed": killed, "tail": output.strip().splitlines()[-3:]}


def _child(out: str, args: list[str]) -> None:
    atexit.register(lambda: Path(out).write_text(json.dumps({"vm_hwm_kb": vm_hwm_kb()})))
    sys.argv = ["arshif", *args]
    runpy.run_module("crawler.cli", run_name="__main__")


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--child":
    sys.path[0] = os.getcwd()  # the checkout under test, not this file's folder
    _child(sys.argv[2], sys.argv[3:])
