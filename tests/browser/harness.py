"""Drive JupyterLab, Notebook 7 and Voila in Chromium: servers in throw-away state, notebooks run from
the Run menu.

The pieces the browser tests share:

* :class:`Server`: a ``jupyter lab``, ``jupyter notebook`` or ``voila`` process on 127.0.0.1 with a
  random token and a free port, every state directory inside one temporary folder, stopped by its pid.
* :class:`Notebook`: one notebook open in a JupyterLab or Notebook 7 page (both are built from the
  same JupyterLab components, so the same selectors and menus serve); runs all cells from the Run menu,
  waits for the kernel, lists what went wrong (error outputs, widgets that did not render) and
  takes a full-length screenshot.
* :class:`Slider`: an ipywidgets slider found by its gptviz CSS class, moved with the keyboard or
  dragged with the mouse, its readout read back.

Timeouts are generous (a 2-core machine shared with other jobs) but bounded; every wait names what it
waited for when it gives up.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
JUPYTER_SETTINGS = REPO / "jupyter-settings"  # installed as share/jupyter/lab/settings/ (pyproject.toml)
SCREENSHOTS = REPO / "out" / "screenshots"  # gitignored (/out/), for a person to look at
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
INSTALL_HINT = "install it with `apt-get install chromium chromium-driver` (Debian/Ubuntu)"


def without_browser(missing: str) -> None:
    """End a test that needs Chromium, ``missing`` saying what is not there: a skip, or a failure
    when ``GPTVIZ_REQUIRE_BROWSER=1`` (as in CI)."""
    if os.environ.get("GPTVIZ_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GPTVIZ_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    pytest.skip(f"browser tests need Chromium; {missing}")

SERVER_START_S = 90  # a cold JupyterLab on a busy 2-core machine: ~5 s idle, far more under load
RUN_ALL_S = 240  # one notebook, every cell (a kernel start, torch import, model load, figures)
WIDGET_S = 60  # a widget view to appear, or to update after a slider moved
STDERR = "application/vnd.jupyter.stderr"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
EXPLORER_CALL = re.compile(r"\w*(Explorer|GenerationStepper)\(")  # e.g. SamplingExplorer(model, text)
ERROR = re.compile(r"Traceback|\w(Error|Exception)\b")  # in a stderr output: an error, not a warning

# The front ends that open a notebook (the module run by ``python -m``) and the page of one notebook.
FRONT_ENDS = {"jupyterlab": "/lab/tree/{}?reset", "notebook": "/notebooks/{}"}

# JupyterLab / Notebook 7 user settings: no news or update toast over the page (there is no network anyway).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True,
    },
}


# The explorers whose chapters have their own test module (which runs the chapter, then drives it).
INTERACTIVE = ("SamplingExplorer(", "AttentionExplorer(", "GenerationStepper(")


def notebook_names() -> list[str]:
    """The chapters, ``NN-*.ipynb`` in notebooks/, in reading order."""
    return sorted(p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb"))


def notebook_holding(code: str) -> str | None:
    """The first chapter with ``code`` (e.g. ``"SamplingExplorer("``) in a code cell, or None."""
    for name in notebook_names():
        cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
        if any(c.cell_type == "code" and code in c.source for c in cells):
            return name
    return None


def screenshot_file(name: str, front_end: str = "jupyterlab", suffix: str = "") -> Path:
    """Where the screenshot of chapter ``name`` goes: ``NN-name[-notebook7][suffix].png``."""
    tag = "" if front_end == "jupyterlab" else "-notebook7"
    return SCREENSHOTS / f"{Path(name).stem}{tag}{suffix}.png"


def chapter_with(run_notebook, code: str, front_end: str = "jupyterlab"):
    """For a module-scoped fixture: yield the chapter that holds ``code`` after ``run_notebook``
    ran it in ``front_end``; afterwards take a second screenshot (``...-driven.png``) and close it."""
    name = notebook_holding(code)
    assert name, f"no chapter in {NOTEBOOKS} has {code!r} in a code cell"
    nb = run_notebook(name, front_end)
    yield nb
    nb.screenshot(screenshot_file(name, front_end, "-driven"))  # the explorer as the tests left it
    nb.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def state_env(state: Path, **extra: str) -> dict[str, str]:
    """This process's environment with every Jupyter, IPython and matplotlib directory under ``state``."""
    dirs = {
        "JUPYTER_CONFIG_DIR": state / "jupyter" / "config",
        "JUPYTER_DATA_DIR": state / "jupyter" / "data",
        "JUPYTER_RUNTIME_DIR": state / "jupyter" / "runtime",
        "IPYTHONDIR": state / "ipython",
        "MPLCONFIGDIR": state / "matplotlib",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "JUPYTER_PLATFORM_DIRS": "1"}
    env.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.update(extra)
    return env


class Server:
    """A Jupyter server process (JupyterLab, Notebook 7 or Voila) on 127.0.0.1 with a random token.

    ``args`` are the command's arguments after ``python -m`` (``python``: this process's interpreter
    unless given); the port, ip and token options are added here. The log goes to ``state/<module>.log`` and its tail is quoted when start-up fails.
    """

    def __init__(self, module: str, args: list[str], cwd: Path, state: Path, env: dict[str, str],
                 app: str = "ServerApp", python: str = sys.executable):
        self.module = module
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state / f"{module}.log"
        cmd = [python, "-m", module, *args, "--no-browser", f"--port={self.port}",
               f"--{app}.ip=127.0.0.1", f"--{app}.token={self.token}", f"--{app}.port_retries=0"]
        if hasattr(os, "getuid") and os.getuid() == 0 and module in FRONT_ENDS:
            cmd.append("--allow-root")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_ready(self, path: str, timeout: float = SERVER_START_S) -> None:
        """Poll ``path`` until it answers 200; fail with the log's tail if the process dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.log.stem} exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.with_token(path), timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.log.stem} did not answer {path} within {timeout} s:\n{self.log_tail()}")

    def with_token(self, path: str) -> str:
        return f"{self.url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, method: str, path: str):
        """A call to the server's REST API; the decoded JSON answer, or None for an empty one."""
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every kernel session, so the next notebook starts on a fresh kernel."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        """SIGTERM to this server's process group (the server and its kernels), SIGKILL after 15 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)


def start_jupyter(root: Path, state: Path, env: dict[str, str], front_end: str = "jupyterlab",
                  python: str = sys.executable, lab_options: tuple[str, ...] = ()) -> Server:
    """JupyterLab (``front_end="jupyterlab"``) or Notebook 7 (``"notebook"``) serving ``root``, with user
    settings under ``state`` (no news toast). ``lab_options`` are more ``--LabServerApp`` options; by
    default the settings overrides are read from the repository's ``jupyter-settings/`` (what pip
    installs into an environment's share/jupyter/lab/settings/), so the tests check the committed file."""
    settings = state / "lab-user-settings"
    for name, values in LAB_SETTINGS.items():
        file = settings / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    # LabServerApp is the base class of both applications: one set of options serves both.
    lab_options = lab_options or (f"--LabServerApp.app_settings_dir={JUPYTER_SETTINGS}",)
    server = Server(front_end, [f"--ServerApp.root_dir={root}", *lab_options,
                                f"--LabServerApp.user_settings_dir={settings}",
                                f"--LabServerApp.workspaces_dir={state / 'lab-workspaces'}"],
                    cwd=root, state=state, env=env, python=python)
    server.wait_ready("/api/status")
    return server


def start_voila(notebook: Path, state: Path, env: dict[str, str]) -> Server:
    """Voila serving one notebook (it runs the notebook on each page load)."""
    server = Server("voila", [notebook.name], cwd=notebook.parent, state=state, env=env, app="Voila")
    server.wait_ready("/")
    return server


class Notebook:
    """One notebook open in JupyterLab or Notebook 7 (whichever ``server`` runs) in its own browser page.

    ``path`` is the notebook on disk (inside the served root); it is read with nbformat to know each
    cell's source and tags, which the DOM's cells follow one to one.
    """

    def __init__(self, page, server: Server, root: Path, path: Path):
        self.page, self.server, self.path = page, server, path
        self.cells = nbformat.read(path, as_version=4).cells
        self.console: list[str] = []
        page.on("pageerror", lambda err: self.console.append(f"page error: {err}"))
        page.on("console", lambda msg: msg.type == "error" and self.console.append(f"console: {msg.text}"))
        rel = path.relative_to(root).as_posix()
        self.front_end = server.module
        page.goto(server.with_token(FRONT_ENDS[server.module].format(rel)), timeout=SERVER_START_S * 1000)
        kernel = page.locator(".jp-Toolbar-kernelName").filter(has_not_text="No Kernel")
        choose = page.locator(".jp-Dialog", has_text="Select Kernel")
        choose.or_(kernel).first.wait_for(timeout=RUN_ALL_S * 1000)
        if choose.count():  # no kernelspec in the notebook's metadata: take the default, as a reader would
            choose.locator(".jp-mod-accept").click()
        kernel.wait_for(timeout=RUN_ALL_S * 1000)
        page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=RUN_ALL_S * 1000)
        if self.front_end == "jupyterlab":
            page.keyboard.press("Control+b")  # fold the file browser away: more room for the notebook

    def run_all(self) -> None:
        """Edit > Clear Outputs of All Cells (so saved outputs cannot pass for new ones), then Run > Run
        All Cells; wait until the kernel has run (or refused) every code cell."""
        self.menu("Edit", "editmenu:clear-all")
        self.page.wait_for_function(_CLEARED, timeout=WIDGET_S * 1000, polling=200)
        self.menu("Run", "runmenu:run-all")
        self.page.wait_for_function(_RUN_FINISHED, arg=self.runnable(), timeout=RUN_ALL_S * 1000, polling=500)

    def menu(self, title: str, command: str) -> None:
        """Click a menu-bar menu, then its item for ``command``, with the notebook as the current widget."""
        page = self.page
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.locator(".lm-MenuBar-itemLabel", has_text=title).first.click()
        page.locator(f'li.lm-Menu-item[data-command="{command}"]').click()

    def runnable(self) -> list[bool]:
        """Per cell: is it a code cell with something to run (JupyterLab skips empty ones)?"""
        return [c.cell_type == "code" and bool(c.source.strip()) for c in self.cells]

    def may_raise(self, i: int) -> bool:
        """Does cell ``i`` raise on purpose (nbval's marker, or JupyterLab's ``raises-exception`` tag)?"""
        cell = self.cells[i]
        return "NBVAL_RAISES_EXCEPTION" in cell.source or "raises-exception" in cell.metadata.get("tags", [])

    def shows_explorer(self, i: int) -> bool:
        """Does cell ``i`` end with a call that builds a gptviz explorer (and so displays it)?"""
        lines = self.cells[i].source.strip().splitlines() if self.cells[i].cell_type == "code" else []
        return bool(lines) and EXPLORER_CALL.match(lines[-1]) is not None

    def wait_widgets(self, timeout: float = WIDGET_S) -> None:
        """Wait until no widget view still says "Loading widget..." (then :meth:`problems` reports any left)."""
        self.page.wait_for_function(
            "() => ![...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]"
            ".some(o => o.textContent.trim() === 'Loading widget...')",
            timeout=timeout * 1000, polling=500)

    def problems(self) -> list[str]:
        """Everything wrong on the page, one line per finding naming the cell (0-based, markdown cells
        counted): code cells not run, error outputs (except in cells that raise on purpose), and
        widget views still loading or failed, and explorers that a cell builds but that are not drawn."""
        found, runnable = [], self.runnable()
        for i, cell in enumerate(self.page.evaluate(_CELL_REPORT)):
            if runnable[i] and not cell["prompt"].isdigit():
                found.append(f"cell {i}: not run (prompt [{cell['prompt']}])")
            for text in cell["stderr"]:
                if ERROR.search(text) and not self.may_raise(i):
                    found.append(f"cell {i}: error output:\n{text[-2000:]}")
            for text in cell["widgets"]:
                if text != "rendered":
                    found.append(f"cell {i}: widget not rendered: {text!r}")
            if self.shows_explorer(i) and not cell["explorers"]:
                found.append(f"cell {i}: ends with an explorer but none is drawn")
        return found

    def cell_holding(self, code: str) -> int:
        """The index (markdown cells counted) of the first code cell with ``code`` in its source."""
        return next(i for i, c in enumerate(self.cells) if c.cell_type == "code" and code in c.source)

    def command_mode_on(self, i: int) -> None:
        """Select cell ``i`` in command mode with the focus on the cell itself (a click on its prompt;
        a widget focused in that same cell would keep the focus)."""
        cell = self.page.locator(".jp-Notebook .jp-Cell").nth(i)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        wait_until(lambda: self.active_cell() == i and cell.evaluate("c => document.activeElement === c"),
                   f"cell {i} to be the active cell and to have the focus")

    def active_cell(self) -> int:
        """The index of the notebook's active cell."""
        return self.page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                                  ".findIndex(c => c.classList.contains('jp-mod-active'))")

    def explorer(self, css_class: str):
        """The locator of the first gptviz explorer holding an element of class ``css_class``."""
        page = self.page
        return page.locator(".jp-Notebook .gptviz-explorer").filter(has=page.locator(f".{css_class}")).first

    def assert_clean(self) -> None:
        """Fail with every problem found (and the browser's last console errors), if any."""
        problems = self.problems()
        assert not problems, (f"{self.path.name}:\n" + "\n".join(problems) +
                              "".join(f"\n{line}" for line in self.console[-5:]))

    def screenshot(self, file: Path) -> Path:
        """The whole notebook in one picture: the window is made as tall as the notebook for the shot."""
        return full_height_screenshot(self.page, file)

    def close(self) -> None:
        self.page.close()
        self.server.delete_sessions()


def full_height_screenshot(page, file: Path, last: str = ".jp-Cell", max_height: int = 20000) -> Path:
    """Screenshot ``page`` from the top with the window made tall enough to show everything down to
    the last ``last`` element (capped at ``max_height`` pixels), whichever element scrolls it."""
    size = page.viewport_size
    height = size["height"]
    for _ in range(3):  # cells drawn for the first time on a taller window may grow: measure again
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)  # let the layout settle
        hidden = page.evaluate(_HIDDEN_HEIGHT, last)
        if hidden <= 0 or height >= max_height:
            break
        height = min(max_height, height + hidden)
    file.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(file))
    page.set_viewport_size(size)
    return file


# Scroll the element that scrolls the last `last` element to its top; return how many pixels of it,
# down to that element's bottom, are out of view.
_HIDDEN_HEIGHT = """last => {
  const end = [...document.querySelectorAll(last)].pop();
  let el = end ? end.parentElement : null;
  while (el && !(el.scrollHeight > el.clientHeight && /auto|scroll/.test(getComputedStyle(el).overflowY)))
    el = el.parentElement;
  el = el || document.scrollingElement;
  el.scrollTop = 0;
  const bottom = end ? end.getBoundingClientRect().bottom - el.getBoundingClientRect().top : el.scrollHeight;
  return Math.ceil(bottom + 16 - el.clientHeight);
}"""


# Per cell of the notebook (markdown too): the prompt's number (or "*", or ""), its stderr texts, the
# number of gptviz explorers drawn, and for each widget view "rendered" or what is left in its place:
# "Loading widget...", "Error displaying widget...", or ipywidgets' error widget.
_CELL_REPORT = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => {
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
  const text = o => o.textContent.replace(/\\s+/g, ' ').trim().slice(0, 500);
  const isWidget = o => o.matches('.jupyter-widgets') || o.querySelector('.jupyter-widgets') ||
    text(o) === 'Loading widget...';
  return {
    prompt: prompt ? prompt.textContent.trim().replace(/^\\[|\\]:?$/g, '') : '',
    stderr: outputs.filter(o => o.dataset.mimeType === '%s').map(o => o.textContent),
    explorers: cell.querySelectorAll('.gptviz-explorer').length,
    widgets: outputs.filter(isWidget).map(o =>
      o.querySelector('.jupyter-widgets-error-widget') ? 'error widget: ' + text(o) :
      !o.matches('.jupyter-widgets') && o.querySelector('.jupyter-widgets') ? 'rendered' : text(o)),
  };
})""" % STDERR

# True once no cell shows an output or an execution count.
_CLEARED = """() => ![...document.querySelectorAll('.jp-Notebook .jp-Cell')].some(c =>
  c.querySelector('.jp-OutputArea-output') ||
  /\\d/.test((c.querySelector('.jp-InputArea-prompt') || {}).textContent || ''))"""

# True once the kernel is idle and no cell waits to run, and either every runnable cell has an
# execution count or an error output stopped the queue.
_RUN_FINISHED = """runnable => {
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!status || status.dataset.status !== 'idle') return false;
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  if (prompts.some(p => p.includes('*'))) return false;
  const counted = prompts.every((p, i) => !runnable[i] || /\\d/.test(p));
  return counted || document.querySelector('.jp-Notebook [data-mime-type="%s"]') !== null;
}""" % STDERR


def wait_until(check, what: str, timeout: float = WIDGET_S, poll: float = 0.25):
    """Call ``check()`` until it returns a truthy value (returned); fail naming ``what`` and the last
    value seen. Exceptions count as "not yet" until the deadline."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as err:  # the element is re-rendered, not there yet, not a number yet
            last = err
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}; last seen: {last!r}")
        time.sleep(poll)


def number(root, css_class: str) -> float:
    """The first ``gptviz-number`` inside the element of class ``css_class`` under ``root`` (a page or
    a locator), as a float (``50,257`` -> 50257.0)."""
    return float(root.locator(f".{css_class} .gptviz-number").first.inner_text().replace(",", ""))


class Slider:
    """An ipywidgets (noUiSlider) slider, found by the CSS class its explorer gave it."""

    def __init__(self, root, css_class: str):
        self.page = root.page if hasattr(root, "page") else root
        self.root = root.locator(f".widget-slider.{css_class}").first
        self.handle = self.root.locator(".noUi-handle")

    @property
    def value(self) -> float:
        return float(self.root.locator(".widget-readout").inner_text())

    def press(self, key: str, times: int = 1) -> None:
        """Focus the handle and press ``key`` (``ArrowRight``, ``ArrowLeft``, ...) ``times`` times."""
        self.handle.focus()
        for _ in range(times):
            self.handle.press(key)

    def drag_to(self, fraction: float) -> None:
        """Drag the handle with the mouse to ``fraction`` (0 to 1) of the track's length."""
        track = self.root.locator(".noUi-base").bounding_box()
        grip = self.handle.bounding_box()
        y = grip["y"] + grip["height"] / 2
        mouse = self.page.mouse
        mouse.move(grip["x"] + grip["width"] / 2, y)
        mouse.down()
        mouse.move(track["x"] + fraction * track["width"], y, steps=8)
        mouse.up()
