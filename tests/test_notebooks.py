"""The notebooks under notebooks/ run end to end on a real Jupyter kernel, and are committed
without outputs.

Each notebook runs through nbclient on a kernel whose spec is written to a private JUPYTER_PATH
and starts this very interpreter (the project's venv), so a ``python3`` kernel installed
elsewhere on the machine is never picked up by mistake. Notebooks run at their small default
sizes; ``WARGAME_NOTEBOOK_FULL=1`` in the environment (inherited by the kernel) runs them at
full size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "wargame-test-venv"

# Besides running without an error, each notebook must show at least this many images and
# print each of these texts.
EXPECTED: dict[str, tuple[int, tuple[str, ...]]] = {
    "01-classroom-walkthrough.ipynb": (5, (
        "same game in memory and in the log: True", "--- Turn 5 ---", "Red chose",
        "original: verified:", "tampered: broken hash chain",
        "figures: rung, detections, c2, losses", "deterrence held in",
        "Turn 2 as Blue saw it:", "refused: jam_space: the scenario gives Red no counterspace unit",
        "turn 5: Blue ", "the session loop and engine.run play the same game: True")),
    "02-posture-sweep.ipynb": (3, (
        "runs in", "P(held)", "alliance-2024 - alliance-2023", "paired 95% CI",
        "mean P(Red's chosen action)", "Sobol: ", "rules.red_model.rationality",
        "blue.isr.mq9.aircraft", "design points, deterrence fails in", "PRIM box: coverage",
        "largest total Sobol' index")),
    "03-log-analysis.ipynb": (3, (
        "games logged", "isr.detect", "c2.message.delivered", "fork with seed",
        "verified:", "fork record:", "removed")),
}


def test_the_notebooks_are_the_expected_ones() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        assert "execution" not in cell.metadata, f"{path.name} cell {i}: run timestamps"
        if cell.cell_type == "code":
            assert cell.outputs == [], (
                f"{path.name} cell {i} has outputs; run python tools/strip_notebooks.py")
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_the_full_switch_first(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "WARGAME_NOTEBOOK_FULL" in first.source


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory):
    """A kernelspec starting this interpreter, found through a private JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "wargame (test venv)",
        "language": "python",
        # figures inline as PNG even where MPLBACKEND is set to a headless backend
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(root))
    patch.setenv("IPYTHONDIR", str(root / "ipython"))  # no profile or history of the user's
    yield KERNEL
    patch.undo()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [out for out in outputs if out.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    stderr = "".join(out.text for out in outputs
                     if out.output_type == "stream" and out.name == "stderr")
    assert "Traceback" not in stderr, stderr
    stdout = "".join(out.text for out in outputs
                     if out.output_type == "stream" and out.name == "stdout")
    images = sum("image/png" in out.get("data", {}) for out in outputs)
    least, texts = EXPECTED[path.name]
    assert images >= least, f"{path.name}: {images} images, expected at least {least}"
    missing = [text for text in texts if text not in stdout]
    assert not missing, f"{path.name} did not print {missing}"
    assert not list(tmp_path.iterdir()), "a notebook left files in its working directory"
