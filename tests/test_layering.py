"""Imports run one way: ingest <- index <- search <- the faces (cli/, the page: app.py and ui/,
and the HTTP API: api/).

Read from the source (ast), so an import inside a function or under TYPE_CHECKING counts too,
and nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each top-level part of the product, its layer, and its group: a part may import its own
# group and any lower layer. The faces share a layer but not a group.
PARTS = {
    "ingest": (0, "ingest"),
    "index": (1, "index"),
    "search": (2, "search"),
    "cli": (3, "cli"),
    "ui": (3, "page"),
    "app": (3, "page"),
    "api": (3, "api"),
}
# The one import between faces: `counsel-search serve` starts the HTTP API (never the reverse).
FACE_TO_FACE = {("cli", "api")}


def python_files(root: Path) -> list[Path]:
    """Every product .py file under root: the packages' (recursively) and app.py."""
    found = [p for part in PARTS for p in sorted((root / part).rglob("*.py"))]
    app = [root / "app.py"] if (root / "app.py").is_file() else []
    return [p for p in found if "__pycache__" not in p.parts] + app


def imported(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, top-level name) of everything a file imports, wherever in the file; relative
    imports resolved against the file's package."""
    package = list(path.relative_to(root).parent.parts)  # [] for app.py
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            parts = base + (node.module.split(".") if node.module else [])
            if parts:
                out.append((node.lineno, parts[0]))
            else:  # `from .. import search` at the top: the names are top-level modules
                out += [(node.lineno, a.name) for a in node.names]
    return out


def violations(root: Path) -> list[str]:
    """One line per import that runs the wrong way, for the tree at root."""
    bad = []
    for path in python_files(root):
        rel = path.relative_to(root)
        layer, group = PARTS[rel.parts[0].removesuffix(".py")]
        for line, name in imported(path, root):
            if name not in PARTS:
                continue  # the standard library or a third-party package
            their_layer, their_group = PARTS[name]
            if (group, their_group) in FACE_TO_FACE:
                continue
            if their_group != group and their_layer >= layer:
                bad.append(f"{rel.as_posix()}:{line} imports {name}")
    return bad


def test_imports_run_one_way() -> None:
    assert len(python_files(ROOT)) > 40  # the real tree, not an empty one
    assert violations(ROOT) == []


def test_the_check_finds_every_kind_of_backward_import(tmp_path: Path) -> None:
    sources = {
        # Allowed: downward, within a group, across the page's two halves, third-party.
        "ingest/__init__.py": "import json\nfrom ingest.readers import read\n",
        "ingest/readers.py": "from . import models\nimport numpy as np\n",
        "index/__init__.py": "from ingest import Passage\n",
        "search/engine.py": "from index import open_index\nfrom .hits import Hit\n",
        "cli/__init__.py": "import search.engine\nfrom index.build import build\n",
        "ui/views.py": "from search import Searcher\nfrom ingest import read\n",
        "app.py": "from ui.views import show\nimport index\n",
        "api/routes.py": "from search import Searcher\nfrom ingest import CounselSearchError\n",
        "cli/serve.py": "from api import serve\n",
        # Each kind of backward import, once.
        "ingest/bad.py": "from index import build\n",
        "index/deep/lazy.py": "def f():\n    import search.engine\n",
        "search/relative.py": "from ..cli import main\n",
        "search/top.py": "x = 1\nfrom .. import ui\n",
        "cli/page.py": "import app\n",
        "ui/terminal.py": "from cli.output import table\n",
        "api/terminal.py": "from cli.output import emit_json\n",
        "api/page.py": "import ui.render\n",
        "ui/http.py": "from api.routes import create_app\n",
        "index/typing_only.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from search.hits import Hit\n",
    }
    for rel, text in sources.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert sorted(violations(tmp_path)) == [
        "api/page.py:1 imports ui",
        "api/terminal.py:1 imports cli",
        "cli/page.py:1 imports app",
        "index/deep/lazy.py:2 imports search",
        "index/typing_only.py:3 imports search",
        "ingest/bad.py:1 imports index",
        "search/relative.py:1 imports cli",
        "search/top.py:2 imports ui",
        "ui/http.py:1 imports api",
        "ui/terminal.py:1 imports cli",
    ]
