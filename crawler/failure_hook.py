"""ARSHIF_ON_FAILURE: tell someone when a crawl run fails, with a JSON summary.

The environment variable holds either an http(s) URL, which gets the summary
as a JSON POST, or a command, split with shlex (never through a shell: nothing
in a source's name or error text can become a command) and given the summary
on stdin. The hook runs after the archive is closed and the lock released; its
own failure or timeout (ARSHIF_ON_FAILURE_TIMEOUT seconds, default 10) is
logged and changes neither the archive nor the run's exit code.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import urllib.error
import urllib.request

ENV = "ARSHIF_ON_FAILURE"
TIMEOUT_ENV = "ARSHIF_ON_FAILURE_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
_ROW_KEYS = ("id", "status", "started_at", "finished_at", "pages_fetched", "stored", "duplicate", "http_error",
             "limit_reached", "warning", "error")


def summary(db: str, exit_code: int, runs) -> dict:
    """What the hook gets: the archive, the run's exit code and each source's outcome (no page text)."""
    sources = []
    for run in runs:
        row = run.row or {}
        entry = {"source": run.name, "exit": run.exit, **{key: row.get(key) for key in _ROW_KEYS}}
        entry["crawl_id"] = entry.pop("id") or run.extra.get("crawl_id")
        entry["error"] = run.error or entry["error"]
        entry["status"] = entry["status"] or "failed"
        sources.append(entry)
    return {"event": "crawl_failed", "archive": db, "exit": exit_code, "host": socket.gethostname(),
            "failed": [s["source"] for s in sources if s["exit"] == 1],
            "no_article": [s["source"] for s in sources if s["exit"] == 2], "sources": sources}


def call(target: str, payload: dict, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """Run the hook; return None when it worked, else one line saying why not."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if target.startswith(("http://", "https://")):
        request = urllib.request.Request(target, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "Arshif failure hook"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            return f"the webhook answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return f"the webhook could not be reached: {getattr(exc, 'reason', exc)}"
        return None
    try:
        argv = shlex.split(target)
    except ValueError as exc:
        return f"cannot read the command: {exc}"
    if not argv:
        return "the command is empty"
    try:
        done = subprocess.run(argv, input=data, timeout=timeout, capture_output=True, shell=False, check=False)
    except subprocess.TimeoutExpired:
        return f"the command did not finish in {timeout:g} s and was stopped"
    except OSError as exc:
        return f"the command could not be started: {exc.strerror or exc}"
    if done.returncode != 0:
        return f"the command exited with {done.returncode}: {done.stderr.decode('utf-8', 'replace').strip()[-300:]}"
    return None


def notify(environ, db: str, exit_code: int, runs) -> None:
    """Call ARSHIF_ON_FAILURE, if set, for a failed run (exit 1 or 2); report its own failure on stderr."""
    target = (environ.get(ENV) or "").strip()
    if not target or exit_code not in (1, 2):
        return
    try:
        timeout = float(environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    problem = call(target, summary(db, exit_code, runs), timeout)
    if problem:
        print(f"arshif: warning: {ENV} hook failed: {problem} (the archive is not affected)", file=sys.stderr)
