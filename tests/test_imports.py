"""``import gptviz`` is light: the model (PyTorch) and the views (matplotlib, plotly) load when first used.

Checked in a fresh interpreter, since this test process has long imported everything. The time it
takes is a benchmark (``benchmarks/imports.py``), not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "matplotlib", "plotly")


def fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_gptviz_loads_no_heavy_library():
    got = fresh("import json, sys, gptviz, gptviz.viz; "
                f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert got == []


def test_import_gptviz_alone_loads_no_numpy():
    """``import gptviz`` (config, errors, export) needs no NumPy: a notebook's first cell and the
    command line's help start in a few hundredths of a second (``benchmarks/imports.py``)."""
    assert fresh("import json, sys, gptviz; print(json.dumps('numpy' in sys.modules))") is False


def test_every_public_name_still_resolves_and_the_views_load_on_first_use():
    got = fresh(
        "import json, sys, types, gptviz\n"
        "from gptviz.viz import head_heatmap\n"  # the from-import form loads the view's module
        "after_view = 'matplotlib' in sys.modules\n"
        "missing = [n for n in gptviz.__all__ if not hasattr(gptviz, n)]\n"
        "missing += [n for n in gptviz.viz.__all__ if not callable(getattr(gptviz.viz, n))]\n"
        "import gptviz.export\n"  # importing the submodule again must not replace the function
        "print(json.dumps({'after_view': after_view, 'missing': missing, 'torch': 'torch' in sys.modules,\n"
        "                  'export_is_function': isinstance(gptviz.export, types.FunctionType),\n"
        "                  'same_view': gptviz.viz.head_heatmap is head_heatmap}))")
    assert got == {"after_view": True, "missing": [], "torch": True, "export_is_function": True, "same_view": True}


def test_unknown_names_are_attribute_errors():
    got = fresh("import json, gptviz, gptviz.viz\n"
                "out = []\n"
                "for mod in (gptviz, gptviz.viz):\n"
                "    try:\n"
                "        mod.no_such_view\n"
                "    except AttributeError as e:\n"
                "        out.append(str(e))\n"
                "print(json.dumps(out))")
    assert got == ["module 'gptviz' has no attribute 'no_such_view'", "module 'gptviz.viz' has no attribute 'no_such_view'"]


#: The modules above the views: they may import them (export saves a view, the command line draws one).
ABOVE_VIEWS = {"gptviz/export.py", "gptviz/__main__.py"}


def library_imports_of_views() -> list[str]:
    """``path: module`` for every import of ``gptviz.viz`` or ``gptviz.widgets`` (at the top or inside a
    function) in a library module: the model, traces, lens, interventions ... (not viz/, widgets/ and
    :data:`ABOVE_VIEWS`)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted((root / "gptviz").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("gptviz/viz/", "gptviz/widgets/")) or rel in ABOVE_VIEWS:
            continue
        package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names = [f"{base}.{node.module}" if node.level else node.module or ""] if node.module else \
                    [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [f"{rel}: {n}" for n in names if n.startswith(("gptviz.viz", "gptviz.widgets"))]
    return found


def test_the_library_never_imports_the_views_or_widgets():
    """Dependencies point one way: views and widgets draw what the library computes, never the reverse."""
    assert library_imports_of_views() == []
