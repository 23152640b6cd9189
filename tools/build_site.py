"""Build the course as a static website: ``python tools/build_site.py [OUT]`` (``make site``; OUT is ``site/``).

Each committed chapter (``notebooks/NN-*.ipynb``, with its stored outputs) becomes one page through
nbconvert's HTML exporter and the template in ``web/templates/gptviz/``: prose, code, outputs, a table of
contents, previous/next links and a search box. Where a chapter shows an explorer, its stored static picture
stays and a live explorer is mounted beside it: ``web/explorers.js`` runs the bundled model in the reader's
browser (``web/gptviz.js``) from the files this script copies into ``OUT/assets/``: the checkpoint's
``model.safetensors`` and ``config.json``, and GPT-2's vocabulary ``gpt2.tiktoken``. The search index
(``OUT/assets/search.json``: one entry per prose cell) is written here, at build time.

Nothing on a page is fetched from outside ``OUT``: no CDN, no fonts, no MathJax, no widget manager. The
build needs no browser, no kernel and no network.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import json
import re
import shutil
import sys
import threading
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from pygments.formatters import HtmlFormatter

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
WEB = REPO / "web"
MODEL = REPO / "assets" / "models" / "gptviz-stories"
VOCAB = REPO / "assets" / "vocab" / "gpt2.tiktoken"
STATIC = ("gptviz.js", "explorers.js", "site.js", "site.css")  # web/ files copied as they are

# An explorer call in a code cell (as tests/browser/harness.EXPLORER_CALL) -> the live explorer mounted
# for it. The others (embeddings, feed-forward, ablation) keep their stored picture only.
LIVE = {"TokenizerExplorer": "tokenizer", "AttentionExplorer": "attention", "LogitLensExplorer": "lens",
        "SamplingExplorer": "sampling", "GenerationStepper": "generation"}
EXPLORER_CALL = re.compile(r"\b(\w*(?:Explorer|GenerationStepper))\(")
# The text box of a stored static picture (gptviz/widgets/_render.py draws it as a pre-wrap div).
STATIC_TEXT = re.compile(r'<div style="[^"]*white-space:pre-wrap[^"]*">(.*?)</div>', re.S)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Chapter:
    """One notebook as a page: ``file`` ``NN-name.html``, ``title`` its first heading."""

    path: Path
    file: str
    title: str


def chapters(folder: Path = NOTEBOOKS) -> list[Chapter]:
    """The chapters in reading order, each with the title of its first markdown heading."""
    out = []
    for path in sorted(folder.glob("[0-9][0-9]-*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = next((line.lstrip("#").strip() for c in nb.cells if c.cell_type == "markdown"
                      for line in c.source.splitlines() if line.startswith("#")), path.stem)
        out.append(Chapter(path, path.stem + ".html", title))
    if not out:
        raise SystemExit(f"no chapters (NN-*.ipynb) in {folder}: run from the repository, or build them with "
                         "python tools/build_notebooks.py")
    return out


def mark_explorers(nb) -> list[str]:
    """Tag each code cell that shows an explorer with ``metadata.gptviz_live = {kind, text}``: the live
    explorer to mount, started on the text of its stored picture. Returns the kinds in page order."""
    kinds = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        calls = [m.group(1) for m in EXPLORER_CALL.finditer(cell.source)]
        kind = next((LIVE[c] for c in calls if c in LIVE), None)
        if kind is None:
            continue
        text = ""
        for out in cell.get("outputs", []):
            found = STATIC_TEXT.search(out.get("data", {}).get("text/html", ""))
            if found:
                text = html.unescape(found.group(1))
                break
        cell.metadata["gptviz_live"] = {"kind": kind, "text": text}
        kinds.append(kind)
    return kinds


def search_entries(nb, page: str) -> list[dict]:
    """One search entry per prose cell: the page, the cell's anchor, its heading (or the chapter's) and its
    text without markdown punctuation."""
    entries, heading = [], ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        heads = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
        heading = heads[0] if heads else heading
        text = re.sub(r"[`*_>#|\[\]]|\(http[^)]*\)", " ", cell.source)
        entries.append({"page": page, "anchor": cell.get("id", ""), "heading": heading,
                        "text": re.sub(r"\s+", " ", text).strip()})
    return entries


def exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the site's template (web/templates/gptviz); widget views give way to
    their stored static picture (text/html) and a live mount, chosen in the template."""
    ex = HTMLExporter(extra_template_basedirs=[str(WEB / "templates")], template_name="gptviz")
    ex.exclude_input_prompt = True
    ex.exclude_output_prompt = True
    # An explorer's widget view first (the template draws its stored picture and the live mount); no
    # application/javascript: a stored script would run on the page.
    ex.display_data_priority = [WIDGET_VIEW, "text/html", "image/svg+xml", "image/png", "image/jpeg",
                                "text/markdown", "text/plain"]
    return ex


def build(out: Path) -> list[Chapter]:
    """Write the whole site into ``out`` (replaced if it holds an earlier build; refused if it holds
    anything else, so no file of yours is lost)."""
    if out.exists():
        if not (out / ".gptviz-site").exists():
            raise SystemExit(f"{out} exists and is not a site this script built (no .gptviz-site marker): "
                             "pass another folder, or remove it yourself")
        shutil.rmtree(out)
    (out / "assets").mkdir(parents=True)
    (out / ".gptviz-site").write_text("built by tools/build_site.py; replaced on every build\n")
    chs = chapters()
    ex = exporter()
    toc = [{"file": c.file, "title": c.title} for c in chs]
    index = []
    for n, ch in enumerate(chs):
        nb = nbformat.read(ch.path, as_version=4)
        kinds = mark_explorers(nb)
        index += search_entries(nb, ch.file)
        resources = {"gptviz": {"title": ch.title, "toc": toc, "current": ch.file, "live": kinds,
                                "prev": toc[n - 1] if n > 0 else None,
                                "next": toc[n + 1] if n + 1 < len(toc) else None}}
        body, _ = ex.from_notebook_node(nb, resources=resources)
        (out / ch.file).write_text(body, encoding="utf-8")
    (out / "index.html").write_text(redirect(chs[0].file), encoding="utf-8")
    (out / "assets" / "search.json").write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    (out / "assets" / "pygments.css").write_text(HtmlFormatter(style="default").get_style_defs(".highlight"))
    for name in STATIC:
        shutil.copyfile(WEB / name, out / "assets" / name)
    shutil.copyfile(MODEL / "model.safetensors", out / "assets" / "model.safetensors")
    shutil.copyfile(MODEL / "config.json", out / "assets" / "config.json")
    shutil.copyfile(VOCAB, out / "assets" / "gpt2.tiktoken")
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    return chs


def redirect(first: str) -> str:
    """The site's index.html: the first chapter (a link too, for readers without the refresh)."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gptviz</title>'
            f'<meta http-equiv="refresh" content="0; url={first}"></head>'
            f'<body><p><a href="{first}">Start the course</a></p></body></html>\n')


def site_bytes(out: Path) -> int:
    """The size of every file of the built site, in bytes."""
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no line per request on stderr
        pass


@contextlib.contextmanager
def serve(out: Path):
    """Serve ``out`` on 127.0.0.1 at a free port, in a thread, for the browser tests and the benchmark;
    yields the site's base URL (``http://127.0.0.1:PORT/``) and stops the server on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(REPO / "site"), help="the folder to write (default: site/)")
    out = Path(parser.parse_args(argv).out)
    chs = build(out)
    print(f"site: {len(chs)} chapters in {out} ({site_bytes(out) / 1e6:.1f} MB); "
          f"serve it with: python -m http.server -d {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
