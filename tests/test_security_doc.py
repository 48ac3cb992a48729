"""SECURITY.md names tests that exist: each defence it lists is proved by a test in the suite."""

from __future__ import annotations

import re

from tests.conftest import PROJECT_DIR


def test_every_test_security_md_names_exists():
    text = (PROJECT_DIR / "SECURITY.md").read_text(encoding="utf-8")
    names = set(re.findall(r"\b(test_[a-z0-9_]+)\b", text)) - {"test_" + "x"}
    suite = "\n".join(path.read_text(encoding="utf-8") for path in (PROJECT_DIR / "tests").glob("test_*.py"))
    defined = set(re.findall(r"^(?:async )?def (test_[a-z0-9_]+)", suite, re.MULTILINE))
    files = {path.stem for path in (PROJECT_DIR / "tests").glob("test_*.py")}
    missing = sorted(name for name in names if name not in defined and name not in files)
    assert len(names) >= 30 and not missing, missing
