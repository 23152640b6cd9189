"""Build the chapter notebooks from their sources, and run them.

Each chapter is written as a ``# %%`` percent script in ``notebooks/src/`` (easy to read and diff);
the product is the executed ``notebooks/NN-name.ipynb`` with its outputs, which nbval then checks.

    python tools/build_notebooks.py                 # convert every source, then execute it
    python tools/build_notebooks.py 03 05           # only the chapters whose names start so
    python tools/build_notebooks.py --no-execute    # convert only (outputs empty)

Cells: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines drop their
leading ``# ``. Execution runs in a fresh kernel per notebook, with the settings the tests use
(``PLOTLY_RENDERER=plotly_mimetype``, offline hub, state kept in a temporary folder), and prints
each notebook's wall time. No widget state is stored: without it, GitHub, nbviewer and nbconvert
show each explorer's static picture instead of a widget they would fetch scripts from a CDN for.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC, OUT = ROOT / "notebooks" / "src", ROOT / "notebooks"
CELL = re.compile(r"^# %%( \[markdown\])?\s*$")


def parse(text: str) -> list[nbformat.NotebookNode]:
    """The cells of a percent script."""
    cells, kind, lines = [], None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "code" and body:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        match = CELL.match(line)
        if match:
            flush()
            kind, lines = ("markdown" if match.group(1) else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def convert(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(source.read_text())
    for i, cell in enumerate(nb.cells):
        cell.id = f"{source.stem[:2]}-{i:02d}"  # stable ids: no random churn in diffs
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode, state: Path) -> float:
    """Run ``nb`` in place in a fresh kernel started in notebooks/; return the seconds taken."""
    os.environ.update({
        "PLOTLY_RENDERER": "plotly_mimetype",
        "HF_HUB_OFFLINE": "1",
        "MPLCONFIGDIR": str(state / "matplotlib"),
        "IPYTHONDIR": str(state / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    })
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False, store_widget_state=False,
                   resources={"metadata": {"path": str(OUT)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    return seconds


def coalesce_streams(outputs: list) -> list:
    """Join consecutive prints to the same stream (how they are split depends on timing)."""
    joined = []
    for out in outputs:
        prev = joined[-1] if joined else None
        if out.output_type == "stream" and prev is not None and prev.output_type == "stream" \
                and prev.name == out.name:
            prev.text += out.text
        else:
            joined.append(out)
    return joined


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="*", help="chapter name prefixes, e.g. 03")
    ap.add_argument("--no-execute", action="store_true")
    args = ap.parse_args(argv)
    sources = sorted(p for p in SRC.glob("*.py") if not args.only or p.stem.startswith(tuple(args.only)))
    total = 0.0
    with tempfile.TemporaryDirectory() as state:
        for source in sources:
            nb = convert(source)
            target = OUT / f"{source.stem}.ipynb"
            if not args.no_execute:
                seconds = execute(nb, Path(state))
                total += seconds
                print(f"{target.name}: {seconds:.1f} s", flush=True)
            nbformat.write(nb, target)
    if not args.no_execute:
        print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
