"""Every setting, source key and command is documented in the README."""

from __future__ import annotations

import re

from crawler import settings
from crawler.cli.main import build_parser
from crawler.sources import Limits, Source
from tests.conftest import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")


def test_every_arshif_setting_is_documented():
    names = [name for name in vars(settings) if name.startswith("ARSHIF_")]
    assert len(names) >= 8
    missing = [name for name in names if f"`{name}`" not in README]
    assert not missing


def test_every_source_key_is_documented():
    keys = [f for f in Source.__dataclass_fields__ if f not in ("limits", "path", "digest")]
    keys += list(Limits.__dataclass_fields__)
    missing = [key for key in keys if not re.search(rf"`{key}`|`\[limits\][^`]*{key}", README)]
    assert not missing


def test_every_command_is_documented_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        assert f"arshif {name}" in README, name
        assert "Example:" in (command.description or ""), name
