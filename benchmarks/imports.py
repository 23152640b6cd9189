"""How long does ``import gptviz`` take, and what does it load? Each figure is the median wall time of
fresh interpreters (``python -c``), timed inside the interpreter around the import statement only.

    python benchmarks/imports.py [--repeats 9] [--path SOURCE_TREE]

``--path`` times another copy of the source (e.g. an older commit's ``git archive``) instead of the
installed one. Prints a markdown table: the statement, median and slowest seconds, and which of
numpy / torch / matplotlib / plotly it left in ``sys.modules``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

STATEMENTS = {
    "import gptviz": "import gptviz",
    "import gptviz; gptviz.load": "import gptviz; gptviz.load",
    "import gptviz; gptviz.viz.head_heatmap": "import gptviz; gptviz.viz.head_heatmap",
    "import torch (for reference)": "import torch",
}
PROBE = ("import json, sys, time\nt = time.perf_counter()\n{stmt}\nt = time.perf_counter() - t\n"
         "print(json.dumps([t, [m for m in ('numpy', 'torch', 'matplotlib', 'plotly') if m in sys.modules]]))")


def run_once(stmt: str, path: str | None) -> tuple[float, list[str]]:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True,
                         check=True, env=env, cwd=path or None)
    seconds, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, loaded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--path", default=None, help="a gptviz source tree to time instead of the installed one")
    args = ap.parse_args()
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    loaded: dict[str, list[str]] = {}
    for _ in range(args.repeats):  # interleaved, so that a busy moment hits every statement alike
        for name, stmt in STATEMENTS.items():
            seconds, loaded[name] = run_once(stmt, args.path)
            times[name].append(seconds)
    print("| statement | median s | slowest s | loaded |")
    print("|---|---:|---:|---|")
    for name, ts in times.items():
        print(f"| `{name}` | {statistics.median(ts):.2f} | {max(ts):.2f} | {', '.join(loaded[name]) or 'none of them'} |")


if __name__ == "__main__":
    main()
