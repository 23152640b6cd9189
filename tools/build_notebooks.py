"""Build the chapter notebooks from their sources, and run them.

Each chapter is written as a ``# %%`` percent script in ``notebooks/src/`` (easy to read and diff);
the product is the executed ``notebooks/NN-name.ipynb`` with its outputs, which nbval then checks.

    python tools/build_notebooks.py                 # convert every source, then execute it
    python tools/build_notebooks.py 03 05           # only the chapters whose names start so
    python tools/build_notebooks.py --no-execute    # convert only (outputs empty)
    python tools/build_notebooks.py --student-only  # only the student versions (notebooks/student/)

Cells: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines drop their
leading ``# ``. Two more markers make exercises in nbgrader's markup:

    # %% [solution] id=ex03_pattern          a cell the student completes: the model answer sits
                                            between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
    # %% [test] id=test03_pattern points=3  an autograded, locked cell whose asserts check the answer

Every build also writes the student versions to ``notebooks/student/`` (no outputs, each solution
replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as ``nbgrader
generate_assignment`` does), for students who work without nbgrader. Execution runs in a fresh kernel per notebook, with the settings the tests use
(``PLOTLY_RENDERER=plotly_mimetype``, offline hub, state kept in a temporary folder), and prints
each notebook's wall time. No widget state is stored: without it, GitHub, nbviewer and nbconvert
show each explorer's static picture instead of a widget they would fetch scripts from a CDN for.
"""

from __future__ import annotations

import argparse
import copy
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
STUDENT = OUT / "student"
CELL = re.compile(r"^# %%(?: \[(markdown|solution|test)\])?((?: [a-z]+=\S+)*)\s*$")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class SourceError(ValueError):
    """A chapter source breaks the cell-marker rules; the message names the line."""


def parse(text: str, name: str = "<source>") -> list[nbformat.NotebookNode]:
    """The cells of a percent script; ``[solution]`` and ``[test]`` cells carry nbgrader metadata."""
    cells, kind, options, lines, start = [], None, {}, [], 0

    def flush():
        body = "\n".join(lines).strip("\n")
        where = f"{name}:{start}"
        has_markers = BEGIN in body or END in body
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind is not None and body:
            cell = nbformat.v4.new_code_cell(body)
            if kind != "code":
                cell.metadata["nbgrader"] = grading(kind, options, body, where)
            elif has_markers:
                raise SourceError(f"{where}: solution markers in a plain cell; start it with "
                                  f"'# %% [solution] id=...'")
            cells.append(cell)

    for number, line in enumerate(text.splitlines(), 1):
        match = CELL.match(line)
        if match:
            flush()
            kind, lines, start = (match.group(1) or "code"), [], number
            options = dict(opt.split("=", 1) for opt in match.group(2).split())
        elif line.startswith("# %%"):
            raise SourceError(f"{name}:{number}: unknown cell marker {line!r}; use '# %%', "
                              f"'# %% [markdown]', '# %% [solution] id=NAME' or '# %% [test] id=NAME points=N'")
        elif kind is not None:
            lines.append(line)
    flush()
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise SourceError(f"{name}: exercise ids used twice: {', '.join(repeated)}")
    return cells


def grading(kind: str, options: dict, body: str, where: str) -> dict:
    """nbgrader's metadata for a ``solution`` or ``test`` cell (schema 3), after checking its markup."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", options.get("id", "")):
        raise SourceError(f"{where}: a [{kind}] cell needs id=NAME (letters, digits, _ or -)")
    allowed = {"id"} | ({"points"} if kind == "test" else set())
    if set(options) - allowed:
        raise SourceError(f"{where}: unknown option(s) {sorted(set(options) - allowed)} for a [{kind}] cell")
    meta = {"grade": kind == "test", "solution": kind == "solution", "locked": kind == "test",
            "task": False, "grade_id": options["id"], "schema_version": 3}
    if kind == "solution":
        marks = [line.strip() for line in body.splitlines() if line.strip() in (BEGIN, END)]
        if not marks or marks != [BEGIN, END] * (len(marks) // 2) or len(marks) % 2:
            raise SourceError(f"{where}: a [solution] cell needs '{BEGIN}' ... '{END}' pairs")
    else:
        if BEGIN in body or END in body:
            raise SourceError(f"{where}: a [test] cell cannot hold a solution")
        if not options.get("points", "").isdigit() or int(options["points"]) < 1:
            raise SourceError(f"{where}: a [test] cell needs points=N (a whole number, 1 or more)")
        meta["points"] = int(options["points"])
    return meta


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without outputs, each solution replaced by nbgrader's stub."""
    student = copy.deepcopy(nb)
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        kept, inside = [], False
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                indent = line[: len(line) - len(line.lstrip())]
                kept += [indent + stub for stub in STUB]
                inside = True
            elif line.strip() == END:
                inside = False
            elif not inside:
                kept.append(line)
        cell.source = "\n".join(kept)
    return student


def convert(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(source.read_text(), source.name)
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
        "GPTVIZ_STRICT_CLAIMS": "1",  # a chapter whose prose the model contradicts fails to build
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
    ap.add_argument("--student-only", action="store_true",
                    help="write only the student versions; leave the solution notebooks as they are")
    args = ap.parse_args(argv)
    sources = sorted(p for p in SRC.glob("*.py") if not args.only or p.stem.startswith(tuple(args.only)))
    total = 0.0
    with tempfile.TemporaryDirectory() as state:
        for source in sources:
            nb = convert(source)
            target = OUT / f"{source.stem}.ipynb"
            STUDENT.mkdir(exist_ok=True)
            nbformat.write(student_version(nb), STUDENT / target.name)  # before running: no kernel metadata
            if args.student_only:
                continue
            if not args.no_execute:
                seconds = execute(nb, Path(state))
                total += seconds
                print(f"{target.name}: {seconds:.1f} s", flush=True)
            nbformat.write(nb, target)
    if not (args.no_execute or args.student_only):
        print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
