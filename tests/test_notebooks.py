"""The notebooks in notebooks/ run top to bottom on the data that ships in the repository.

Each test executes an in-memory copy of a notebook (the files on disk keep no outputs) with the
real model, in a kernel running this interpreter, with the notebooks folder as working directory.
A probe cell appended to the copy prints the notebook's key results as JSON for the assertions.
The executed copy is written to the test's temporary folder for inspection.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BENCH_SAMPLE = ROOT / "data" / "bench_sample"
MODES = {"dense", "lexical", "hybrid"}
CELL_TIMEOUT = 600  # seconds per cell; a whole run takes about a minute on 2 cores
PROBE = "# test probe\n"
# Answers of the bundled CounselChat CSV indexed by the explore notebook under test (300 by
# default): fewer keeps the run short while leaving enough passages for a map and themes.
SAMPLE_ROWS = "120"


@pytest.fixture()
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run kernels with this interpreter, isolated from the user's Jupyter and IPython setup.

    The "python3" kernelspec found first (JUPYTER_PATH comes before the user's and the system's
    folders) starts sys.executable, so the kernel sees the packages of this venv even when the
    user has a python3 kernel of their own.
    """
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (counsel-search tests)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.delenv("COUNSEL_SEARCH_BENCH", raising=False)
    monkeypatch.setenv("COUNSEL_SEARCH_SAMPLE_ROWS", SAMPLE_ROWS)


def execute(name: str, probe: str, out_dir: Path):
    """Execute a copy of notebooks/<name> with `probe` appended; return the executed copy."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE + probe))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(nb, out_dir / name)
    return nb


def stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def probe_result(nb) -> dict:
    cell = nb.cells[-1]
    assert cell.source.startswith(PROBE)
    return json.loads(stream_text(cell).strip().splitlines()[-1])


def charts(nb) -> list[dict]:
    """The Vega-Lite specs the notebook displayed (altair's output)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for mime, data in out.get("data", {}).items():
                if mime.startswith("application/vnd.vegalite"):
                    found.append(data)
                elif mime == "text/html" and "vegaEmbed" in data:
                    found.append({"html": data})
    return found


def test_notebooks_are_saved_without_outputs() -> None:
    """Outputs are produced by running, never committed."""
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {b.name for b in books} >= {"evaluate.ipynb", "explore_related.ipynb"}
    for path in books:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3", path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.notebook
@pytest.mark.integration
def test_evaluate_notebook(kernel_env: None, tmp_path: Path) -> None:
    nb = execute(
        "evaluate.ipynb",
        "import json\n\n"
        'print(json.dumps({"bench": str(BENCH), "metrics": metrics.to_dict("records")}))',
        tmp_path,
    )
    result = probe_result(nb)
    assert Path(result["bench"]) == BENCH_SAMPLE.resolve()
    tasks = {p.name for p in BENCH_SAMPLE.iterdir() if (p / "corpus.jsonl").is_file()}
    assert len(tasks) == 3
    rows = result["metrics"]
    assert sorted((r["task"], r["mode"]) for r in rows) == sorted(
        (t, m) for t in tasks for m in MODES
    )
    for r in rows:
        assert r["queries"] == 40 and r["passages"] == 400
        for key in ("ndcg_at_10", "mrr_at_10", "recall_at_10", "recall_at_100"):
            assert 0.0 <= r[key] <= 1.0, (r["task"], r["mode"], key)
        # Far from chance (1 in 400): the harness, the index and the model all work.
        assert r["ndcg_at_10"] > 0.3, (r["task"], r["mode"])
    assert len(charts(nb)) == 2


@pytest.mark.notebook
@pytest.mark.integration
def test_explore_related_notebook(kernel_env: None, tmp_path: Path) -> None:
    nb = execute(
        "explore_related.ipynb",
        "import json\n\n"
        "print(json.dumps({'passages': report.passages, 'walk': walk, 'hits': len(hits),\n"
        "    'groups': len(groups), 'cards': len(cards), 'map': [cmap.method, len(cmap.ids)],\n"
        "    'themes': [found.k, sum(t.size for t in found.themes)],\n"
        "    'exported': len(exported), 'columns': list(exported.columns)}))",
        tmp_path,
    )
    result = probe_result(nb)
    n = result["passages"]
    assert 7 + 100 <= n <= 7 + int(SAMPLE_ROWS)  # the seed's 7 plus the answers (some merged)
    walk = result["walk"]
    assert len(walk) == 3 and len(set(walk)) == 3
    printed = "".join(stream_text(c) for c in nb.cells[:-1])
    for step, pid in enumerate(walk):
        assert f"step {step}: {pid}" in printed
    assert result["hits"] == 10 and 1 <= result["groups"] <= 10 and 1 <= result["cards"] <= 10
    assert result["map"] == ["pca", n]
    k, covered = result["themes"]
    assert k >= 2 and covered == n
    assert result["exported"] > 0
    assert {"kind", "step", "from_id", "passage_id", "index_version", "model"} <= set(
        result["columns"]
    )
    assert len(charts(nb)) == 2
