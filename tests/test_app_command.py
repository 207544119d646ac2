"""`counsel-search app` starts Streamlit with the privacy defaults itself: this machine only
(127.0.0.1) unless told otherwise, no usage statistics, the upload size limit.

The launch (os.execvpe) is intercepted, and the command line it would run is read back with
Streamlit's own option parser, so a misspelt or mistyped flag fails here too. The browser test
starts Streamlit with its own flags and cannot catch a regression in the command.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import pytest

from cli import main
from index.uploads import MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parent.parent


class Launched(Exception):
    """Raised instead of replacing the test process with Streamlit."""


def launch(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment `counsel-search app ARGV` would exec."""
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    def execvpe(file: str, args: list[str], env: dict[str, str]) -> None:
        calls.append((file, list(args), dict(env)))
        raise Launched

    monkeypatch.setattr(os, "execvpe", execvpe)
    with pytest.raises(Launched):
        main(["app", *argv])
    [(file, args, env)] = calls
    assert file == args[0] == sys.executable
    # Streamlit runs in the launcher's process, which loads the searcher meanwhile.
    assert args[1:3] == ["-m", "ui.launch"]
    return args, env


def streamlit_options(args: list[str]) -> dict[str, object]:
    """What Streamlit's `run` makes of the launcher's arguments (after `-m ui.launch`): the
    options it would apply, by config name (server.address, ...), plus the script as `target`."""
    from streamlit.web import cli as streamlit_cli

    from ui.launch import run_args

    ctx = streamlit_cli.main_run.make_context("run", run_args(args[3:])[1:])
    assert ctx.params["args"] == ()  # nothing left over for the script
    return {
        key.replace("_", ".", 1): value
        for key, value in ctx.params.items()
        if value is not None and value != ()
    }


def test_defaults_keep_the_page_private(monkeypatch: pytest.MonkeyPatch) -> None:
    args, _ = launch(monkeypatch)
    options = streamlit_options(args)
    assert Path(str(options["target"])).resolve() == ROOT / "app.py"
    assert options["server.address"] == "127.0.0.1"  # this machine only
    assert options["browser.gatherUsageStats"] is False  # no usage statistics sent
    assert options["server.maxUploadSize"] == MAX_UPLOAD_MB  # MB per uploaded file
    assert options["server.headless"] is True  # no browser opened by the server
    assert options["server.port"] == 8501


def test_upload_limit_matches_the_repository_config() -> None:
    # `streamlit run app.py` from the repository reads .streamlit/config.toml instead.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False


def test_address_port_and_index_are_passed_through(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    args, env = launch(monkeypatch, "--address", "0.0.0.0", "--port", "8600", "--index", "idx")
    options = streamlit_options(args)
    assert options["server.address"] == "0.0.0.0"
    assert options["server.port"] == 8600
    # Sharing the page changes where it listens, not the other privacy settings.
    assert options["browser.gatherUsageStats"] is False
    assert options["server.maxUploadSize"] == MAX_UPLOAD_MB
    assert env["COUNSEL_SEARCH_INDEX"] == str(
        tmp_path / "idx"
    )  # absolute: the page's cwd may differ
