"""Notebook 7 in an environment made by plain ``pip install -e .`` (no ``make install``, no settings
step): the arrow keys move a focused slider because pip itself installed the settings overrides
(``jupyter-settings/overrides.d/gptviz.json``, a data file in pyproject.toml) into the environment's
share/jupyter/lab/settings/, where JupyterLab and Notebook 7 read them.

The environment is a fresh venv in tmp whose packages (torch, jupyterlab, notebook...) come from this
one through a ``.pth`` file: pip runs with ``--no-deps`` and installs only gptviz (its build backend,
hatchling, from pip's index or cache as always). JupyterLab's own data files (schemas, themes, the
widgets' lab extension) are read from this environment's share/jupyter; the new environment's settings
folder holds only what pip put there.
Without the overrides file the keyboard check fails: Notebook 7 takes ArrowLeft for its cursor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from .explorers import SamplingView
from .harness import JUPYTER_SETTINGS, REPO, VIEWPORT, Notebook, start_jupyter, state_env, wait_until

pytestmark = pytest.mark.browser

PIP_S = 180  # venv creation and an editable install on a busy machine
SETTINGS = Path("share", "jupyter", "lab", "settings", "overrides.d", "gptviz.json")
PROMPT = "Once upon a time, there was a girl named Mia. One day, Mia went to the"  # as in the chapter
CODE = f"import gptviz\nfrom gptviz.widgets import SamplingExplorer\n\nSamplingExplorer(gptviz.load(), {PROMPT!r})"


@pytest.fixture(scope="module")
def pip_env(tmp_path_factory) -> Path:
    """A venv with gptviz installed by ``pip install -e .``; its interpreter."""
    prefix = tmp_path_factory.mktemp("pip-install") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=PIP_S)
    python = prefix / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True, timeout=PIP_S).stdout.strip()
    (Path(site) / "zz-shared-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--ignore-installed", "-e", str(REPO)], check=True, timeout=PIP_S, env=env, cwd=prefix)
    installed = prefix / SETTINGS
    assert installed.is_file(), f"pip install -e . did not install {SETTINGS}"
    assert installed.read_text() == (JUPYTER_SETTINGS / "overrides.d" / "gptviz.json").read_text()
    return python


@pytest.fixture(scope="module")
def nb(chromium, pip_env, tmp_path_factory):
    """A two-cell notebook (a heading, a SamplingExplorer) run in Notebook 7 from the pip environment."""
    root = tmp_path_factory.mktemp("pip-served")
    path = root / "explore.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Explore"),
                                                   nbformat.v4.new_code_cell(CODE)]), path)
    state = tmp_path_factory.mktemp("pip-state")
    env = {k: v for k, v in state_env(state).items() if k != "PYTHONPATH"}  # gptviz from the editable install
    env["JUPYTER_PATH"] = str(Path(sys.prefix, "share", "jupyter"))  # the lab extensions (widgets) pip put here
    shared_lab = Path(sys.prefix, "share", "jupyter", "lab")
    server = start_jupyter(root, state, env, "notebook", python=str(pip_env),
                           lab_options=(f"--LabServerApp.schemas_dir={shared_lab / 'schemas'}",
                                        f"--LabServerApp.themes_dir={shared_lab / 'themes'}"))
    try:
        page = Notebook(chromium.new_page(viewport=VIEWPORT), server, root, path)
        page.run_all()
        page.wait_widgets()
        yield page
        page.close()
    finally:
        server.stop()


def test_temperature_slider_with_the_keyboard_then_the_mouse(nb, expected_model):
    nb.assert_clean()
    view = SamplingView(nb.explorer("gptviz-top-prob"), expected_model)
    before = view.settled()
    cell = nb.active_cell()
    view.temperature.press("ArrowLeft", 4)  # 4 steps of 0.05
    lowered = view.settled(temperature=round(before.temperature - 0.2, 2))
    assert lowered.top_prob != before.top_prob
    assert nb.active_cell() == cell, "ArrowLeft on the slider moved the notebook's cursor"
    view.temperature.drag_to(0.8)  # the slider runs 0 to 2
    dragged = wait_until(lambda: (s := view.settled()).temperature >= 1.4 and s, "the dragged temperature")
    assert dragged.temperature <= 1.8 and dragged.top_prob != lowered.top_prob
