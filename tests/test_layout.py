"""The tree shows the architecture: imports point down, and a plain `pip install .` carries every package."""

from __future__ import annotations

import ast
import keyword
import os
import shutil
import subprocess
import sys
from pathlib import Path

from crawler import settings
from tests.conftest import PROJECT_DIR

PACKAGES = ("crawler", "pipelines")


def _modules(top: str) -> list[Path]:
    return sorted((PROJECT_DIR / top).rglob("*.py"))


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_in_pipelines_imports_crawler():
    upward = {str(path.relative_to(PROJECT_DIR)): sorted(name for name in _imported(path) if name.split(".")[0] == "crawler")
              for path in _modules("pipelines")}
    assert {path: names for path, names in upward.items() if names} == {}


def test_plain_logic_never_imports_scrapy():
    """text/, extraction/, similarity/ and archive/ run in worker processes and datasette: no Scrapy there."""
    for folder in ("text", "extraction", "similarity", "archive"):
        for path in (PROJECT_DIR / "pipelines" / folder).rglob("*.py"):
            assert not {name for name in _imported(path) if name.split(".")[0] in ("scrapy", "twisted", "crawler")}, path


def test_pipelines_top_holds_only_the_item_pipelines_in_order():
    top = sorted(path.stem for path in (PROJECT_DIR / "pipelines").glob("*.py") if path.stem != "__init__")
    in_order = [path.split(".")[1] for path, _ in sorted(settings.ITEM_PIPELINES.items(), key=lambda item: item[1])]
    assert in_order == ["extract", "language_filter", "dedup", "storage"]
    assert top == sorted(in_order)


def test_every_package_says_what_lives_there():
    for top in PACKAGES:
        for init in (PROJECT_DIR / top).rglob("__init__.py"):
            docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            assert docstring and len(docstring.split()) >= 8, init


def test_cli_has_one_module_per_command():
    from crawler.cli.main import COMMAND_MODULES, build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    module = {command: f"{command}_" if keyword.iskeyword(command) else command for command in commands}  # import_.py
    assert {name.rsplit(".", 1)[1] for name in COMMAND_MODULES} == set(module.values())
    assert all((PROJECT_DIR / "crawler" / "cli" / f"{module[command]}.py").is_file() for command in commands)


def test_a_non_editable_install_carries_every_package_and_the_demo_site(tmp_path):
    source, target = tmp_path / "source", tmp_path / "site"
    # built from a copy: setuptools leaves build/ and *.egg-info/ beside the sources it builds
    shutil.copytree(PROJECT_DIR, source, ignore=shutil.ignore_patterns(".git", "build", "data", ".data", "*.egg-info", "__pycache__"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    packages = sorted(str(init.parent.relative_to(PROJECT_DIR)).replace(os.sep, ".")
                      for top in PACKAGES for init in (PROJECT_DIR / top).rglob("__init__.py"))
    code = ("import importlib, sys; from crawler.demo.server import DEMO_SITE; "
            "[importlib.import_module(name) for name in sys.argv[1:]]; "
            "assert DEMO_SITE.is_relative_to(sys.path[0]), DEMO_SITE; "
            "print(len(list(DEMO_SITE.glob('articles/*.html'))))")
    # a neutral folder and only the installed copy on the path: nothing may come from the checkout
    imported = subprocess.run([sys.executable, "-c", code, *packages], capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"})
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert int(imported.stdout) == len(list((PROJECT_DIR / "crawler" / "demo" / "site" / "articles").glob("*.html")))
