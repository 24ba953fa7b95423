"""Strip outputs from notebooks before committing them.

    python tools/strip_notebooks.py                 # every notebooks/*.ipynb, in place
    python tools/strip_notebooks.py FILE.ipynb ...  # the files given
    python tools/strip_notebooks.py --check         # exit 1 if a notebook has outputs

Clears every code cell's outputs and execution count, the execution timestamps that Jupyter
and nbclient record in cell metadata, and the kernel's language details in the notebook's
metadata, so a notebook's diff shows only its source.
The test suite (tests/test_notebooks.py) refuses committed notebooks with outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
VOLATILE_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def strip(nb: nbformat.NotebookNode) -> bool:
    """Remove outputs and run state from a notebook in place; True if anything changed."""
    changed = False
    info = nb.metadata.get("language_info")
    if info is not None and set(info) - {"name"}:  # the kernel's version, not the notebook's
        nb.metadata["language_info"] = {"name": info.get("name", "python")}
        changed = True
    for cell in nb.cells:
        for key in VOLATILE_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
        if cell.cell_type != "code":
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="notebooks (default: notebooks/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any notebook would be stripped")
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in files:
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            dirty.append(path)
            if not args.check:
                nbformat.write(nb, path)
    for path in dirty:
        print(f"{'has outputs' if args.check else 'stripped'}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
