"""Fixtures for the browser tests: Chromium (or a skip that says how to install it), a copy of the
notebooks, one browser and one server per front end (JupyterLab, Notebook 7) for the whole session,
and the kernels' model loaded here too, to compute what the widgets must show.

Screenshots of every notebook go to ``out/screenshots/`` (gitignored); the path and the time the
browser tests took are printed at the end of the run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .harness import (
    CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT, NOTEBOOKS, SCREENSHOTS, VIEWPORT, Notebook, screenshot_file,
    start_jupyter, state_env, without_browser,
)

_spent = {"seconds": 0.0, "tests": set()}  # set-up, call and tear-down time of the browser tests


def pytest_runtest_logreport(report):
    if "browser" in report.keywords:
        _spent["seconds"] += report.duration
        _spent["tests"].add(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _spent["tests"]:
        terminalreporter.write_line(f"browser tests: {len(_spent['tests'])} in {_spent['seconds']:.0f} s "
                                    f"(servers and browser included); screenshots in {SCREENSHOTS}")


@pytest.fixture(scope="session")
def chromium():
    """Playwright's Chromium driving Debian's /usr/bin/chromium; a skip (a failure when
    ``GPTVIZ_REQUIRE_BROWSER=1``, as in CI) when it is missing."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found: {INSTALL_HINT}"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "the playwright package is missing: pip install -e '.[dev]'"
    if missing:
        without_browser(missing)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def expected_model():
    """The model the kernels load (``gptviz.load()``: ``$GPTVIZ_MODEL`` or the bundled one), loaded in
    the test process to compute the numbers a widget must show."""
    import gptviz

    return gptviz.load(device="cpu")


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Path:
    """A copy of notebooks/: running a notebook in the browser must not touch the committed ones."""
    root = tmp_path_factory.mktemp("served") / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


@pytest.fixture(scope="session")
def state(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jupyter-state")


@pytest.fixture(scope="session")
def kernel_env(state) -> dict[str, str]:
    """The environment of every server and kernel: state directories in tmp."""
    return state_env(state)


@pytest.fixture(scope="session")
def servers(chromium, served, state, kernel_env):
    """``servers(front_end)``: the JupyterLab (``"jupyterlab"``) or Notebook 7 (``"notebook"``) server on
    the notebook copy, started on first use; each is stopped by its pid at the end of the session."""
    started = {}

    def get(front_end: str = "jupyterlab"):
        if front_end not in started:
            started[front_end] = start_jupyter(served, state, kernel_env, front_end)
        return started[front_end]

    yield get
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session")
def run_notebook(chromium, servers, served):
    """``run_notebook(name, front_end="jupyterlab") -> Notebook``: open a notebook on a fresh kernel in a
    new page of that front end, run all cells, wait for its widgets, save a full-length screenshot.
    The caller checks ``problems()`` and closes it."""

    def run(name: str, front_end: str = "jupyterlab") -> Notebook:
        server = servers(front_end)
        server.delete_sessions()
        nb = Notebook(chromium.new_page(viewport=VIEWPORT), server, served, served / name)
        shot = screenshot_file(name, front_end)
        try:
            nb.run_all()
            nb.wait_widgets()
        except Exception as err:  # a timeout: say which cells had not finished
            nb.screenshot(shot)
            found = "\n".join(nb.problems())
            nb.close()
            raise AssertionError(f"{name} did not finish in {front_end} ({err}); see {shot}\n{found}") from None
        nb.screenshot(shot)
        return nb

    return run
