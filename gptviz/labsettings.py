"""Write JupyterLab's settings overrides into this environment: no news pop-up, no update check.

Run once by ``make install`` (``python -m gptviz.labsettings``). A classroom machine is often offline,
and the pop-up would cover the first notebook a student opens.
"""

import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write(prefix: str = sys.prefix) -> Path:
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**current, **OVERRIDES}, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
