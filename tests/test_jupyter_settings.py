"""The JupyterLab / Notebook 7 settings overrides that pip installs with gptviz
(``jupyter-settings/overrides.d/gptviz.json``, shared data in pyproject.toml; tests/browser/test_pip_install.py
checks a real ``pip install -e .``).

Notebook 7 runs its shortcuts before a page element sees the key (JupyterLab after), so an arrow key
pressed on a focused slider moved the notebook's cursor instead of the slider, and ArrowLeft twice
folded the section the explorer sits in. The file replaces each of the notebook's four arrow-key
shortcuts by one that skips keys pressed inside a widget; everywhere else they act as before. It also
turns off the news pop-up and the update check (a classroom machine is often offline).
"""

import json
import sys
import tomllib
from pathlib import Path

from jupyterlab_server.settings_utils import _get_overrides

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "jupyter-settings"
GPTVIZ = SETTINGS / "overrides.d" / "gptviz.json"
SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
SHORTCUTS = "@jupyterlab/shortcuts-extension:shortcuts"
COMMAND_MODE_FOCUS = ".jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus"


def test_the_arrow_shortcuts_replaced_are_the_installed_defaults():
    """A default binding is switched off only by an entry with its exact command, keys and selector:
    the installed JupyterLab (whose notebook plugin Notebook 7 uses too) must declare each one so."""
    tracker = json.loads((SCHEMAS / "@jupyterlab" / "notebook-extension" / "tracker.json").read_text())
    defaults = {(s["command"], tuple(s["keys"]), s["selector"]) for s in tracker["jupyter.lab.shortcuts"]}
    shortcuts = json.loads(GPTVIZ.read_text())[SHORTCUTS]["shortcuts"]
    off = [s for s in shortcuts if s.get("disabled")]
    on = [s for s in shortcuts if not s.get("disabled")]
    assert len(off) == len(on) == 4
    assert {tuple(s["keys"]) for s in off} == {("ArrowUp",), ("ArrowDown",), ("ArrowLeft",), ("ArrowRight",)}
    for s in off:
        assert (s["command"], tuple(s["keys"]), s["selector"]) in defaults, s
    assert {(s["command"], tuple(s["keys"])) for s in on} == {(s["command"], tuple(s["keys"])) for s in off}
    assert all(s["selector"] == COMMAND_MODE_FOCUS + ":not(.jupyter-widgets *)" for s in on)


def test_pip_installs_the_file_where_jupyterlab_reads_overrides():
    shared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    target = Path(shared["shared-data"][str(GPTVIZ.relative_to(ROOT))])
    assert target == Path("share", "jupyter", "lab", "settings") / GPTVIZ.relative_to(SETTINGS)


def test_another_overrides_file_in_the_environment_keeps_ours(tmp_path):
    """JupyterLab merges every overrides.d/*.json and then overrides.json (a user's or another package's):
    an overrides.json already in the environment is left alone and both apply."""
    (tmp_path / "overrides.d").mkdir()
    (tmp_path / "overrides.d" / "gptviz.json").write_text(GPTVIZ.read_text())
    theme = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    (tmp_path / "overrides.json").write_text(json.dumps(theme))
    merged, error = _get_overrides(str(tmp_path))
    assert not error
    assert merged["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert merged[SHORTCUTS] == json.loads(GPTVIZ.read_text())[SHORTCUTS]
    assert merged["@jupyterlab/apputils-extension:notification"]["checkForUpdates"] is False
