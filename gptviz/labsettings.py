"""Write JupyterLab's and Notebook 7's settings overrides into this environment: no news pop-up, no
update check, and arrow keys that move a focused slider instead of the notebook's cursor.

Run once by ``make install`` (``python -m gptviz.labsettings``). A classroom machine is often offline,
and the pop-up would cover the first notebook a student opens.
"""

import json
import sys
from pathlib import Path

# The notebook's arrow-key shortcuts in command mode, as JupyterLab 4 and Notebook 7 declare them.
NOTEBOOK_ARROWS = {
    "ArrowUp": "notebook:move-cursor-up",
    "ArrowDown": "notebook:move-cursor-down",
    "ArrowLeft": "notebook:move-cursor-heading-above-or-collapse",
    "ArrowRight": "notebook:move-cursor-heading-below-or-expand",
}
COMMAND_MODE_FOCUS = ".jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus"
#: The same shortcuts, except when the focus is in a widget (a slider's handle, a dropdown).
OUTSIDE_WIDGETS = COMMAND_MODE_FOCUS + ":not(.jupyter-widgets *)"


def arrow_shortcuts() -> list[dict]:
    """Notebook 7 runs its shortcuts before a page element sees the key (JupyterLab after), so an arrow
    key pressed on a focused slider moved the notebook's cursor instead of the slider, and ArrowLeft
    twice folded the section the explorer sits in. Each arrow shortcut is replaced by one that skips
    keys pressed inside a widget; everywhere else it acts as before."""
    arrows = NOTEBOOK_ARROWS.items()
    off = [{"command": c, "keys": [k], "selector": COMMAND_MODE_FOCUS, "disabled": True} for k, c in arrows]
    return off + [{"command": c, "keys": [k], "selector": OUTSIDE_WIDGETS} for k, c in arrows]


OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/shortcuts-extension:shortcuts": {"shortcuts": arrow_shortcuts()},
}


def write(prefix: str = sys.prefix) -> Path:
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**current, **OVERRIDES}, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
