"""How fast and small is the course as a website? Built by tools/build_site.py, served from 127.0.0.1, driven
in headless Chromium (/usr/bin/chromium) on this machine.

    python benchmarks/site.py [--repeats 9]

One line per figure: the forward pass at 128 and 256 tokens (median, in the page, after two warm-up runs),
a slider move to a new picture (the attention explorer's layer/head slider: from the input event to the
frame after the redraw, median and slowest), the first chapter page interactive from a fresh browser
context (cold cache: the HTML parsed, then the model fetched and the live explorer mounted), the whole site's
size, and the requests that left the origin while every page was opened. Each line ends with the target.
The machine's load average is printed first: on a shared machine every time is an upper bound.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import build_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LOAD_MS = 120_000

FORWARD = """async ([n, repeats]) => {
  const m = await gptviz.load();
  const ids = Array.from({length: n}, (_, i) => (i * 7919) % 50000);
  const times = [];
  for (let r = 0; r < repeats + 2; r++) { const t = performance.now(); m.forward(ids); times.push(performance.now() - t); }
  return times.slice(2);
}"""
SLIDER = """async (repeats) => {
  const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const times = [];
  for (let r = 0; r < repeats; r++) {
    for (const cls of ["gx-layer", "gx-head"]) {
      const s = document.querySelector("." + cls);
      s.value = String((Number(s.value) + 1) % (Number(s.max) + 1));
      const t = performance.now();
      s.dispatchEvent(new Event("input"));
      await frame();
      times.push(performance.now() - t);
    }
  }
  return times;
}"""


def line(what: str, value: float, unit: str, target: str, ok: bool, extra: str = "") -> None:
    print(f"{what}: {value:,.1f} {unit}{extra} (target {target}: {'met' if ok else 'MISSED'})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        out = Path(tmp) / "site"
        build_site.build(out)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        with build_site.serve(out) as url:
            context = browser.new_context()  # fresh: nothing cached
            page = context.new_page()
            outside = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:")) else None)
            first = build_site.chapters()[1].file  # the first chapter (00 is the welcome page)
            t = time.perf_counter()
            page.goto(url + first, wait_until="domcontentloaded")
            parsed = time.perf_counter() - t
            page.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_MS)
            ready = time.perf_counter() - t
            line(f"first chapter page ({first}) interactive, cold cache", ready, "s", "< 2 s", ready < 2,
                 f" (HTML parsed in {parsed:.2f} s; the rest is the 14.5 MB model and the explorer)")
            for n, target in ((128, 100), (256, 300)):
                times = page.evaluate(FORWARD, [n, args.repeats])
                med = statistics.median(times)
                line(f"forward pass, {n} tokens", med, "ms", f"< {target} ms", med < target,
                     f" median of {len(times)} (fastest {min(times):.1f}, slowest {max(times):.1f})")
            page.goto(url + "03-attention.html")
            page.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_MS)
            n_tok = page.locator(".gx-row .gx-tok").count()
            times = page.evaluate(SLIDER, args.repeats)
            med = statistics.median(times)
            line(f"slider move to a new picture (attention, {n_tok} tokens)", med, "ms", "< 50 ms", med < 50,
                 f" median of {len(times)} (slowest {max(times):.1f})")
            for ch in build_site.chapters():
                page.goto(url + ch.file)
                page.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_MS)
            size = build_site.site_bytes(out) / 1e6
            line("whole site", size, "MB", "< 40 MB", size < 40)
            print(f"requests outside the origin, every page opened: {len(outside)} (target 0: "
                  f"{'met' if not outside else 'MISSED: ' + ', '.join(outside[:3])})")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
