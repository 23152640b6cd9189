"""The class hub's processes: configurable-http-proxy on its own, then JupyterHub, so a hub restart keeps
every student's connection (JupyterHub's "Running proxy separately from the hub").

    python hub/classhub.py start    # make hub: the proxy (unless it runs already), then the hub in the foreground
    python hub/classhub.py stop     # make hub-stop: the students' servers and the proxy

The hub (``jupyterhub_config.py``), this launcher and ``benchmarks/classroom.py`` read the same settings
from the environment: ``GPTVIZ_HUB_STATE`` (default ``hub/state``) and ``GPTVIZ_HUB_PORT`` (default 8000:
the public port; the hub listens on the next one, the proxy's REST API on the one after) and
``GPTVIZ_HUB_IP`` (default 127.0.0.1: this machine only; the address students connect to, e.g. the lab
network's, is the only one that may differ: the hub and the proxy's API stay on 127.0.0.1). The proxy and
the hub authenticate to each other with the token in ``<state>/proxy_token``, made once (mode 0600); the
proxy's pid is in ``<state>/proxy.pid``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = HERE / "jupyterhub_config.py"


def state_dir() -> Path:
    """The hub's state folder (database, secrets, pid files, ``homes/<student>``), created if missing."""
    state = Path(os.environ.get("GPTVIZ_HUB_STATE", HERE / "state")).resolve()
    (state / "homes").mkdir(parents=True, exist_ok=True)
    return state


def public_port() -> int:
    """The port students open (``GPTVIZ_HUB_PORT``); the hub uses it + 1, the proxy's API it + 2."""
    return int(os.environ.get("GPTVIZ_HUB_PORT", "8000"))


def public_ip() -> str:
    """The address students connect to (``GPTVIZ_HUB_IP``, default 127.0.0.1: nobody else can)."""
    return os.environ.get("GPTVIZ_HUB_IP", "127.0.0.1")


def proxy_token(state: Path) -> str:
    """The proxy's API token, shared by the proxy and every hub that runs behind it."""
    path = state / "proxy_token"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def proxy_pid(state: Path) -> int | None:
    """The pid in ``proxy.pid`` if that process still runs configurable-http-proxy, else None."""
    try:
        pid = int((state / "proxy.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"configurable-http-proxy" in cmdline else None


def start_proxy(state: Path, port: int, log, ip: str = "127.0.0.1", timeout: float = 60) -> int:
    """Start configurable-http-proxy for students on ``ip:port``, in its own session (a killed hub does
    not take it along), unless it runs already; wait until its API answers. Returns its pid."""
    running = proxy_pid(state)
    if running:
        return running
    if not PROXY.exists():
        raise SystemExit(f"JupyterHub's proxy is not installed ({PROXY}): run `make hub-proxy` (needs Node >= 18)")
    hub = f"http://127.0.0.1:{port + 1}"
    cmd = [str(PROXY), "--ip", ip, "--port", str(port), "--api-ip", "127.0.0.1",
           "--api-port", str(port + 2), "--default-target", hub, "--error-target", f"{hub}/hub/error"]
    proc = subprocess.Popen(cmd, env=dict(os.environ, CONFIGPROXY_AUTH_TOKEN=proxy_token(state)),
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    (state / "proxy.pid").write_text(str(proc.pid))
    request = urllib.request.Request(f"http://127.0.0.1:{port + 2}/api/routes",
                                     headers={"Authorization": f"token {proxy_token(state)}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"configurable-http-proxy exited with {proc.returncode} (is port {port} or "
                             f"{port + 2} taken?)")
        try:
            with urllib.request.urlopen(request, timeout=5):
                return proc.pid
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"configurable-http-proxy did not answer on 127.0.0.1:{port + 2} within {timeout:.0f} s")


def server_pids(state: Path) -> list[int]:
    """Pids of every student's server and kernels of this hub: our processes whose environment has
    ``JUPYTERHUB_USER`` and a ``HOME`` under ``<state>/homes``."""
    home = f"HOME={state / 'homes'}/".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(v.startswith(b"JUPYTERHUB_USER=") for v in env) and any(v.startswith(home) for v in env):
                found.append(int(entry))
    return found


def stop(state: Path, timeout: float = 30) -> None:
    """SIGTERM the students' servers and kernels, then the proxy; SIGKILL what is left after ``timeout``."""
    pids = server_pids(state)
    proxy = proxy_pid(state)
    pids += [proxy] if proxy else []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(map(_alive, pids)):
            time.sleep(0.3)
    (state / "proxy.pid").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, an exited child its parent has not reaped yet, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if argv not in (["start"], ["stop"]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    state = state_dir()
    if argv == ["stop"]:
        stop(state)
        print(f"Stopped the students' servers and the proxy of {state}.")
        return 0
    port = public_port()
    with open(state / "proxy.log", "ab") as log:
        pid = start_proxy(state, port, log, public_ip())
    print(f"configurable-http-proxy (pid {pid}) on http://{public_ip()}:{port}; log {state / 'proxy.log'}", flush=True)
    hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the hub too, which stops on its own
    hub.wait()
    print("The hub stopped; the proxy and the students' servers keep running. `make hub` starts the hub "
          "again behind them; `make hub-stop` stops them.", file=sys.stderr)
    return hub.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
