"""The settings overrides `make install` and Binder's postBuild write (gptviz.labsettings)."""

import json
import sys
from pathlib import Path

from gptviz import labsettings

SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"


def test_the_arrow_shortcuts_replaced_are_the_installed_defaults():
    """A default binding is switched off only by an entry with its exact command, keys and selector:
    the installed JupyterLab (whose notebook plugin Notebook 7 uses too) must declare each one so."""
    tracker = json.loads((SCHEMAS / "@jupyterlab" / "notebook-extension" / "tracker.json").read_text())
    defaults = {(s["command"], tuple(s["keys"]), s["selector"]) for s in tracker["jupyter.lab.shortcuts"]}
    shortcuts = labsettings.OVERRIDES["@jupyterlab/shortcuts-extension:shortcuts"]["shortcuts"]
    off = [s for s in shortcuts if s.get("disabled")]
    on = [s for s in shortcuts if not s.get("disabled")]
    assert len(off) == len(on) == 4
    for s in off:
        assert (s["command"], tuple(s["keys"]), s["selector"]) in defaults, s
    assert {(s["command"], tuple(s["keys"])) for s in on} == {(s["command"], tuple(s["keys"])) for s in off}
    assert all(s["selector"].endswith(":not(.jupyter-widgets *)") for s in on)


def test_write_keeps_the_other_overrides_in_the_file(tmp_path):
    target = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    assert labsettings.write(str(tmp_path)) == target
    written = json.loads(target.read_text())
    assert written["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert written["@jupyterlab/apputils-extension:notification"]["checkForUpdates"] is False
    assert len(written["@jupyterlab/shortcuts-extension:shortcuts"]["shortcuts"]) == 8
