"""Tests only: a point in a write path where the process dies as kill -9 would (no commit, no cleanup).

Each point is named by an environment variable holding N: the process dies right after
the Nth time it passes there. The crash tests set it to prove a rerun after a kill at
that point equals a clean run; unset (the default), passing costs one comparison.
"""

from __future__ import annotations

import os


class KillPoint:
    def __init__(self, variable: str):
        self.variable = variable
        self.after = int(os.environ.get(variable) or 0)
        self.passed = 0  # this process's passes

    def reached(self) -> None:
        self.passed += 1
        if self.after and self.passed >= self.after:
            os._exit(137)
