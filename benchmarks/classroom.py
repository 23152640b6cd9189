"""A class on one JupyterHub, run for real and measured.

    python benchmarks/classroom.py --students 30

starts the hub of ``hub/jupyterhub_config.py`` (state in a temporary folder, 127.0.0.1 only), and for each
student, concurrently: logs in with the class password, follows the nbgitpuller link (a bare clone of this
working tree, ``file://``), starts a kernel, runs every code cell of chapters 06 and 03 over the Jupyter
server's kernel protocol (REST + websocket), then moves the sampling explorer's temperature and top-k
sliders 20 times each the way the front-end does (a widget-state ``update`` over the comm channel, timed
until the kernel is idle again after redrawing). ``--browser-students`` of them (default 3) work in real
Chromium pages instead (Playwright, as the browser tests): the hub's login form, the link, JupyterLab's
Run All Cells on chapter 06, the sliders moved with the arrow keys. Then the faults, one row each, among
the students over the kernel protocol: a student's kernel killed, one student pasting the largest text
the explorer accepts (a full context of tokens), the hub killed and restarted, the teacher pushing an
update that every student pulls. The last line is the summary::

    students=N failed=F cells_p50_ms=... cells_p95_ms=... slider_p95_ms=... peak_pss_mb_per_student=... hub_total_gb=...

Memory is PSS (``/proc/<pid>/smaps_rollup``) of each student's server and kernel processes (found by the
``JUPYTERHUB_USER`` in their environment), sampled twice a second; CPU is their user + system seconds.
Everything is bounded in time (``--deadline``) and stopped by pid at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hub"))
import classhub  # noqa: E402 (hub/classhub.py: the proxy on its own, the settings the hub shares)

CONFIG = classhub.CONFIG
PROXY = classhub.PROXY
CHAPTERS = ("notebooks/06-output-sampling.ipynb", "notebooks/03-attention.ipynb")
SAMPLING = CHAPTERS[0]
MOVES = 20  # per slider
CELL_S = 300  # one cell, at most (a cold torch import on a loaded machine)
SPAWN_S = 240
# Find the explorer the chapter displayed (it is not assigned to a name) and its sliders' widget ids.
FIND_EXPLORER = (
    "import gc as _gc, json as _json\n"
    "_ex = [o for o in _gc.get_objects() if type(o).__name__ == 'SamplingExplorer'][-1]\n"
    "print(_json.dumps({'temperature': _ex.controls.temperature.model_id, 'top_k': _ex.controls.top_k.model_id,"
    " 'text': _ex.text.model_id}))"
)


def free_port_block(n: int = 3) -> int:
    """A port p with p .. p+n-1 free on 127.0.0.1 (the hub's public, API and proxy-API ports)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + n < 65535 and all(_free(port + i) for i in range(n)):
            return port
    raise RuntimeError("no block of free ports on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest rank; nan for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def bare_clone(work: Path, into: Path) -> Path:
    """A bare git repository ``into/gptviz.git`` holding the working tree as it is now (committed or not),
    branch ``main``: what the nbgitpuller link points at."""
    staging = into / "teacher"
    shutil.copytree(REPO / "notebooks", staging / "notebooks",
                    ignore=shutil.ignore_patterns("exports", ".ipynb_checkpoints"))
    git = ["git", "-c", "user.name=teacher", "-c", "user.email=teacher@example.invalid", "-C", str(staging)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(staging)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "the class notebooks"], check=True)
    bare = into / "gptviz.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(staging), str(bare)], check=True)
    subprocess.run(git + ["remote", "add", "origin", str(bare)], check=True)
    return bare


def teacher_push(bare: Path, note: str) -> None:
    """The teacher adds a markdown cell at the end of chapter 06 and pushes it to the class repository."""
    staging = bare.parent / "teacher"
    path = staging / SAMPLING
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": uuid.uuid4().hex[:8], "metadata": {}, "source": note})
    path.write_text(json.dumps(nb, indent=1) + "\n")
    git = ["git", "-c", "user.name=teacher", "-c", "user.email=teacher@example.invalid", "-C", str(staging)]
    subprocess.run(git + ["commit", "-q", "-am", "teacher: a hint"], check=True)
    subprocess.run(git + ["push", "-q", "origin", "main"], check=True)


class Hub:
    """``jupyterhub -f hub/jupyterhub_config.py`` with its state in ``state``, behind the proxy that
    ``hub/classhub.py`` starts on its own (as ``make hub`` does); the hub is killed and restarted on
    demand, the proxy stays; :meth:`stop` stops every student's server, the hub and the proxy, by pid."""

    def __init__(self, state: Path, password: str):
        self.state, self.password = state, password
        self.port = free_port_block()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(24)
        self.proc: subprocess.Popen | None = None
        self.log = open(state / "hub.log", "ab")

    def start(self, timeout: float = 120) -> None:
        classhub.start_proxy(self.state, self.port, self.log)
        env = dict(os.environ, GPTVIZ_HUB_STATE=str(self.state), GPTVIZ_HUB_PASSWORD=self.password,
                   GPTVIZ_HUB_IP="127.0.0.1", GPTVIZ_HUB_PORT=str(self.port), GPTVIZ_HUB_API_TOKEN=self.token)
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=self.state,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited with {self.proc.returncode}; see {self.state / 'hub.log'}")
            try:
                if self.api("GET", "/").status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the hub did not answer within {timeout:.0f} s; see {self.state / 'hub.log'}")

    def kill(self) -> None:
        """SIGKILL the hub process (not the proxy or the students' servers): a crash mid-lesson."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {self.token}"},
                                timeout=60, **kw)

    def stop(self, users: list[str]) -> None:
        if self.proc and self.proc.poll() is None:
            for name in users:
                try:
                    self.api("DELETE", f"/users/{name}/server")
                except requests.RequestException:
                    pass
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and any(user_pids(n) for n in users):
                time.sleep(0.5)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        classhub.stop(self.state)  # the proxy, and any server the hub could not stop (it was down, or stuck)
        self.log.close()

    def pids(self) -> list[int]:
        """The hub's and the proxy's pids."""
        pids = [self.proc.pid] if self.proc and self.proc.poll() is None else []
        proxy = classhub.proxy_pid(self.state)
        return pids + ([proxy] if proxy else [])


def user_pids(name: str) -> list[int]:
    """Pids of this student's server and kernels: every process of ours whose environment says
    ``JUPYTERHUB_USER=name``."""
    mark = f"JUPYTERHUB_USER={name}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if mark in (Path("/proc") / entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_s(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / ticks


class Memory(threading.Thread):
    """Samples each student's PSS and the whole hub's (hub + proxy + every student) twice a second."""

    def __init__(self, hub: Hub, users: list[str]):
        super().__init__(daemon=True)
        self.hub, self.users = hub, users
        self.peak = {u: 0.0 for u in users}
        self.peak_total = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            each = {u: pss_mb(user_pids(u)) for u in self.users}
            for u, mb in each.items():
                self.peak[u] = max(self.peak[u], mb)
            self.peak_total = max(self.peak_total, sum(each.values()) + pss_mb(self.hub.pids()))


class KernelError(RuntimeError):
    """A cell raised, or the kernel died while running it."""


class Kernel:
    """One kernel's channels over the server's websocket (``/api/kernels/<id>/channels``): what
    JupyterLab sends and reads, without the page."""

    def __init__(self, ws_url: str, token: str):
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=CELL_S)
        self.session = uuid.uuid4().hex
        self.statuses: list[str] = []  # every kernel status seen (a dead kernel shows "restarting")

    def send(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({"header": {"msg_id": msg_id, "username": "student", "session": self.session,
                                            "msg_type": msg_type, "version": "5.3"},
                                 "parent_header": {}, "metadata": {}, "content": content, "channel": channel,
                                 "buffers": []}))
        return msg_id

    def wait_idle(self, msg_id: str, timeout: float = CELL_S) -> tuple[list[dict], list[dict]]:
        """Messages answering ``msg_id`` until the kernel is idle after it: (iopub outputs, comm updates).
        Raises :class:`KernelError` on an error output or a kernel restart."""
        outputs, comms = [], []
        self.ws.settimeout(timeout)
        while True:
            msg = json.loads(self.ws.recv())
            kind, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content", {})
            if kind == "status":
                self.statuses.append(content["execution_state"])
                if content["execution_state"] in ("restarting", "dead"):
                    raise KernelError(f"the kernel {content['execution_state']} (it died)")
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "error":
                raise KernelError(f"{content['ename']}: {content['evalue']}")
            if kind in ("stream", "execute_result", "display_data"):
                outputs.append(content)
            if kind == "comm_msg":
                comms.append(content)
            if kind == "status" and content["execution_state"] == "idle":
                return outputs, comms

    def execute(self, code: str) -> list[dict]:
        return self.wait_idle(self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                                           "user_expressions": {}, "allow_stdin": False}))[0]

    def set_widget(self, model_id: str, value) -> list[dict]:
        """What the front-end sends when a slider moves: a widget-state update over the comm channel."""
        msg_id = self.send("comm_msg", {"comm_id": model_id, "data": {"method": "update", "state": {"value": value},
                                                                       "buffer_paths": []}})
        return self.wait_idle(msg_id)[1]

    def close(self) -> None:
        try:
            self.ws.close()
        except (websocket.WebSocketException, OSError):
            pass  # already lost

    def cut(self) -> None:
        """Lose the connection as a laptop leaving the Wi-Fi does (no close handshake)."""
        self.ws.sock.shutdown(socket.SHUT_RDWR)


class Student:
    """One student, over HTTP as a browser would be: the login form, the nbgitpuller link, the server's
    REST API and kernel websocket (with a token the hub made for this student)."""

    def __init__(self, hub: Hub, name: str, repo_url: str):
        self.hub, self.name, self.repo_url = hub, name, repo_url
        self.http = requests.Session()
        self.base = f"{hub.url}/user/{name}"
        self.token = ""
        self.kernel: Kernel | None = None
        self.kernel_id = ""
        self.sliders: dict[str, str] = {}
        self.cell_ms: list[float] = []
        self.slider_ms: list[float] = []

    def login(self) -> None:
        self.http.get(f"{self.hub.url}/hub/login", timeout=60).raise_for_status()
        r = self.http.post(f"{self.hub.url}/hub/login", timeout=60, allow_redirects=False,
                           data={"username": self.name, "password": self.hub.password,
                                 "_xsrf": self.http.cookies.get("_xsrf", path="/hub/")})
        if r.status_code != 302 or "jupyterhub-session-id" not in self.http.cookies:
            raise RuntimeError(f"{self.name}: login answered {r.status_code}")

    def start_server(self) -> None:
        self.hub.api("POST", f"/users/{self.name}/server")
        deadline = time.monotonic() + SPAWN_S
        while time.monotonic() < deadline:
            server = self.hub.api("GET", f"/users/{self.name}").json().get("servers", {}).get("", {})
            if server.get("ready"):
                break
            time.sleep(1)
        else:
            raise TimeoutError(f"{self.name}: server not ready in {SPAWN_S} s")
        r = self.hub.api("POST", f"/users/{self.name}/tokens", json={"note": "classroom", "expires_in": 7200})
        r.raise_for_status()
        self.token = r.json()["token"]
        self.http.headers["Authorization"] = f"token {self.token}"

    def pull(self) -> None:
        """Follow the nbgitpuller link (its event stream, as the link's page reads it) to the end."""
        query = urllib.parse.urlencode({"repo": self.repo_url, "branch": "main", "targetpath": "gptviz"})
        r = self.http.get(f"{self.base}/git-pull/api?{query}", stream=True, timeout=SPAWN_S)
        r.raise_for_status()
        last = {}
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                last = json.loads(line[5:])
                if last.get("phase") in ("finished", "error"):
                    break
        if last.get("phase") != "finished":
            raise RuntimeError(f"{self.name}: nbgitpuller ended with {last}")

    def open(self, path: str) -> None:
        """Open a chapter: a notebook session (a kernel in the chapter's folder) and its channels."""
        if self.kernel:
            self.kernel.close()
        r = self.http.post(f"{self.base}/api/sessions", timeout=120,
                           json={"path": f"gptviz/{path}", "type": "notebook", "name": Path(path).name,
                                 "kernel": {"name": "python3"}})
        r.raise_for_status()
        self.kernel_id = r.json()["kernel"]["id"]
        self.reconnect()

    def reconnect(self) -> None:
        """Open the channels of the same kernel again (what JupyterLab does when its websocket drops)."""
        if self.kernel:
            self.kernel.close()
        ws = self.base.replace("http://", "ws://") + f"/api/kernels/{self.kernel_id}/channels"
        self.kernel = Kernel(ws, self.token)

    def restart_kernel(self, timeout: float = 120) -> None:
        """Kernel > Restart, once the server's own restart of a dead kernel (its "restarting" status) is
        over: a restart asked for in the middle of that one is refused (500)."""
        deadline = time.monotonic() + timeout
        url = f"{self.base}/api/kernels/{self.kernel_id}"
        while time.monotonic() < deadline:
            if self.http.get(url, timeout=60).json().get("execution_state") in ("idle", "busy"):
                r = self.http.post(f"{url}/restart", timeout=120)
                if r.ok:
                    return
            time.sleep(1)
        raise TimeoutError(f"{self.name}: kernel {self.kernel_id} could not be restarted in {timeout:.0f} s")

    def notebook(self, path: str) -> dict:
        r = self.http.get(f"{self.base}/api/contents/gptviz/{path}", timeout=60)
        r.raise_for_status()
        return r.json()["content"]

    def save(self, path: str, nb: dict) -> None:
        self.http.put(f"{self.base}/api/contents/gptviz/{path}", timeout=60,
                      json={"type": "notebook", "format": "json", "content": nb}).raise_for_status()

    def run_chapter(self, path: str) -> None:
        self.open(path)
        for cell in self.notebook(path)["cells"]:
            if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
                t = time.perf_counter()
                self.kernel.execute("".join(cell["source"]))
                self.cell_ms.append((time.perf_counter() - t) * 1000)

    def find_explorer(self) -> None:
        out = self.kernel.execute(FIND_EXPLORER)
        self.sliders = json.loads(out[-1]["text"])

    def move_sliders(self, moves: int = MOVES, into: list[float] | None = None) -> None:
        """Temperature then top-k, ``moves`` values each; every move timed until its redraw is done."""
        into = self.slider_ms if into is None else into
        for i in range(moves):
            for key, value in (("temperature", round(0.1 + 1.8 * i / max(1, moves - 1), 2)),
                               ("top_k", 1 + (97 * i) // max(1, moves - 1))):
                t = time.perf_counter()
                updates = self.kernel.set_widget(self.sliders[key], value)
                if not updates:
                    raise RuntimeError(f"{self.name}: moving {key} to {value} redrew nothing")
                into.append((time.perf_counter() - t) * 1000)

    def lesson(self, chapters=CHAPTERS) -> None:
        self.login()
        self.start_server()
        self.pull()
        for path in reversed(chapters):  # chapter 03 first, so the sampling kernel stays open for the sliders
            self.run_chapter(path)
        self.find_explorer()
        self.move_sliders()

    def kernel_pid(self) -> int:
        for pid in user_pids(self.name):
            if self.kernel_id in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                return pid
        raise RuntimeError(f"{self.name}: no process for kernel {self.kernel_id}")


def _harness():
    """The browser tests' helpers (``tests/browser/harness.py``: Chromium, JupyterLab's Run All, sliders)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("harness", REPO / "tests" / "browser" / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _HubServer:
    """What the harness's ``Notebook`` asks of a server, for one student's server behind the hub (the
    page's own login cookie authenticates it, so no token is added)."""

    module = "jupyterlab"

    def __init__(self, base: str):
        self.base = base

    def with_token(self, path: str) -> str:
        return self.base + path


class BrowserStudent:
    """One student in a real Chromium page (Playwright driving Debian's /usr/bin/chromium, as the browser
    tests do): the hub's login form, the nbgitpuller link, JupyterLab's Run > Run All Cells on the
    sampling chapter, then the explorer's temperature and top-k sliders moved with the arrow keys, each
    move timed until the explorer's entropy line is redrawn."""

    def __init__(self, hub: Hub, name: str, repo_url: str):
        self.hub, self.name, self.repo_url = hub, name, repo_url
        self.run_all_ms: list[float] = []
        self.slider_ms: list[float] = []

    def lesson(self, chapters=CHAPTERS) -> None:
        from playwright.sync_api import sync_playwright
        harness = _harness()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(harness.CHROMIUM), headless=True,
                                         args=harness.CHROMIUM_ARGS)
            try:
                self._lesson(browser.new_page(viewport={"width": 1280, "height": 900}), harness)
            finally:
                browser.close()

    def _lesson(self, page, harness) -> None:
        page.goto(f"{self.hub.url}/hub/login", timeout=60_000)
        page.fill("#username_input", self.name)
        page.fill("#password_input", self.hub.password)
        page.click("#login_submit")
        link = f"{self.hub.url}/hub/user-redirect/git-pull?" + urllib.parse.urlencode(
            {"repo": self.repo_url, "branch": "main", "targetpath": "gptviz",
             "urlpath": f"lab/tree/gptviz/{SAMPLING}"})
        page.goto(link, timeout=SPAWN_S * 1000)
        page.wait_for_url("**/lab/**", timeout=SPAWN_S * 1000)
        home = self.hub.state / "homes" / self.name
        nb = harness.Notebook(page, _HubServer(f"{self.hub.url}/user/{self.name}"), home,
                              home / "gptviz" / SAMPLING)
        t = time.perf_counter()
        nb.run_all()
        self.run_all_ms.append((time.perf_counter() - t) * 1000)
        nb.wait_widgets()
        problems = nb.problems()
        if problems:
            raise RuntimeError(f"{self.name}: {'; '.join(problems)}")
        explorer = nb.explorer("gptviz-top-prob")
        entropy = explorer.locator(".gptviz-entropy")
        for css in ("gptviz-temperature", "gptviz-topk"):
            slider = harness.Slider(explorer, css)
            for i in range(MOVES):  # right, left, right, ...: every press changes the value
                before = entropy.inner_text()
                t = time.perf_counter()
                slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                harness.wait_until(lambda: entropy.inner_text() != before, f"{self.name}: {css} redrawn",
                                   timeout=CELL_S, poll=0.02)
                self.slider_ms.append((time.perf_counter() - t) * 1000)


class Classroom:
    """The hub, the class repository and N students, all in one temporary folder; a context manager
    that stops everything it started."""

    def __init__(self, students: int, keep: Path | None = None, browsers: int = 0):
        if not PROXY.exists():
            raise SystemExit(f"JupyterHub's proxy is not installed ({PROXY}): run `make hub-proxy` first")
        self.tmp = Path(tempfile.mkdtemp(prefix="gptviz-class-", dir=keep))
        (self.tmp / "state").mkdir()
        self.bare = bare_clone(REPO, self.tmp)
        self.hub = Hub(self.tmp / "state", password=secrets.token_hex(8))
        self.names = [f"student{i:02d}" for i in range(students)]
        self.students = [Student(self.hub, n, f"file://{self.bare}") for n in self.names[browsers:]]
        self.browsers = [BrowserStudent(self.hub, n, f"file://{self.bare}") for n in self.names[:browsers]]
        self.memory = Memory(self.hub, self.names)

    def __enter__(self) -> "Classroom":
        self.hub.start()
        self.memory.start()
        return self

    def __exit__(self, *exc) -> None:
        self.memory.done.set()
        for s in self.students:
            if s.kernel:
                s.kernel.close()
        self.hub.stop(self.names)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def each(self, fn, students=None) -> list[BaseException | None]:
        """``fn(student)`` for every student at once; the exception each raised, or None."""
        students = self.students if students is None else students

        def guarded(s):
            try:
                fn(s)
                return None
            except Exception as e:  # noqa: BLE001 (a failed student is counted and reported, not fatal)
                return e

        with ThreadPoolExecutor(len(students)) as pool:
            return list(pool.map(guarded, students))


# The faults: each returns (ok, what it saw) and leaves the class able to go on.

def fault_kernel_killed(room: Classroom) -> tuple[bool, str]:
    """SIGKILL one student's kernel while the others move sliders: the others see no error; the victim's
    next cell reports the death, and after a restart the chapter runs again and its sliders work."""
    victim, others = room.students[0], room.students[1:]
    pid = victim.kernel_pid()
    threads = ThreadPoolExecutor(max(1, len(others)))
    futures = [threads.submit(s.move_sliders, 3, []) for s in others]
    os.kill(pid, signal.SIGKILL)
    errors = []
    for f in futures:
        try:
            f.result()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads.shutdown()
    try:
        victim.kernel.execute("1 + 1")
        message = "no message: the dead kernel still answered"
    except (KernelError, websocket.WebSocketException) as e:
        message = str(e)
    victim.restart_kernel()
    victim.run_chapter(SAMPLING)
    victim.find_explorer()
    victim.move_sliders(2, [])
    ok = not errors and "died" in message
    return ok, f"others' errors={len(errors)} victim saw {message!r}, restarted and moved sliders"


# The largest text the sampling explorer accepts: as many tokens as the model's context holds (a longer
# paste is refused with a message before any model run, so costs the others nothing).
LARGEST_TEXT = (
    "_tok, _n = _ex.model.tokenizer, _ex.model.config.n_ctx\n"
    "print(_json.dumps(_tok.decode(_tok.encode('The quick brown fox jumps over the lazy dog. ' * _n)[:_n])))"
)
PASTED_TOKENS = "print(len(_ex.prompt_tokens), _ex.model.config.n_ctx, repr(_ex.message.value))"


def fault_big_paste(room: Classroom, baseline_p95: float) -> tuple[bool, float, str]:
    """One student pastes the largest text the explorer accepts (a full context of tokens: one forward
    pass at the longest length) while the others move sliders. Returns (the others' slider p95 under 2x
    the baseline's and the paste applied, that p95, what the paster's explorer shows)."""
    paster, others = room.students[0], room.students[1:]
    text = json.loads(paster.kernel.execute(LARGEST_TEXT)[-1]["text"])
    times: list[float] = []
    lock = threading.Lock()

    def work(s):
        mine: list[float] = []
        s.move_sliders(5, mine)
        with lock:
            times.extend(mine)

    with ThreadPoolExecutor(len(room.students)) as pool:
        pasted = pool.submit(paster.kernel.set_widget, paster.sliders["text"], text)
        for done in pool.map(work, others):
            del done
        pasted.result()
    n, n_ctx, message = paster.kernel.execute(PASTED_TOKENS)[-1]["text"].split(" ", 2)
    p95 = percentile(times, 95)
    applied = n == n_ctx
    seen = f"paste of {n} tokens (context {n_ctx}) applied={applied}" + ("" if applied else f": {message}")
    return p95 < 2 * baseline_p95 and applied, p95, seen


def keep_moving(student: Student, back: threading.Event, dropped: list[str]) -> None:
    """Move the sliders until the hub is ``back``, then twice more. A dropped websocket is noted in
    ``dropped``, and the student reconnects to the same kernel once the hub is back and carries on."""
    after = drops = 0
    while after < 2:
        after += back.is_set()
        try:
            student.move_sliders(2, [])
        except (websocket.WebSocketException, OSError) as e:
            dropped.append(f"{student.name}: {e!r}")
            drops += 1
            if drops > 3:
                raise
            back.wait(SPAWN_S)
            student.reconnect()


def fault_hub_restart(room: Classroom, down_s: float = 3) -> tuple[bool, str]:
    """SIGKILL the hub while every student moves sliders, leave it down ``down_s`` seconds, start it
    again: saved notebooks unchanged, kernels still the same processes, no connection dropped by the
    restart, every student carries on and can log in again. The first student's connection is cut on
    purpose while the hub is down: that student reconnects to the same kernel once it is back."""
    saved = {s.name: s.notebook(SAMPLING) for s in room.students}
    for s in room.students:
        s.save(SAMPLING, saved[s.name])
    kernels = {s.name: s.kernel_pid() for s in room.students}
    back, dropped = threading.Event(), []
    with ThreadPoolExecutor(len(room.students)) as pool:
        moving = [pool.submit(keep_moving, s, back, dropped) for s in room.students]
        time.sleep(1)
        room.hub.kill()
        cut = room.students[0]
        cut.kernel.cut()
        time.sleep(down_s)
        try:
            room.hub.start()
        finally:
            back.set()
        errors = [f.exception() for f in moving]
    for s in room.students:
        s.login()
    intact = all(s.notebook(SAMPLING) == saved[s.name] for s in room.students)
    survived = all(s.kernel_pid() == kernels[s.name] for s in room.students)
    failed = [f"{s.name}: {e!r}" for s, e in zip(room.students, errors) if e is not None]
    by_restart = [d for d in dropped if not d.startswith(f"{cut.name}:")]
    reconnected = len(dropped) - len(by_restart) == 1
    ok = intact and survived and not failed and not by_restart and reconnected
    return ok, (f"notebooks intact={intact} kernels survived={survived} connections dropped by the restart="
                f"{len(by_restart)} {cut.name}'s cut on purpose and reconnected to the same kernel={reconnected} "
                f"students failed={len(failed)}" + "".join(f"; {f}" for f in failed + by_restart))


def fault_teacher_update(room: Classroom) -> tuple[bool, str]:
    """Each student edits chapter 06 (a note in its first markdown cell) and saves; the teacher pushes a
    new cell; every student follows the link again: the student's note and the teacher's cell both there."""
    hint = f"Teacher's hint {uuid.uuid4().hex[:6]}: try temperature 0."
    for s in room.students:
        nb = s.notebook(SAMPLING)
        cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        cell["source"] = "".join(cell["source"]) + f"\n\nMy note ({s.name})."
        s.save(SAMPLING, nb)
    teacher_push(room.bare, hint)
    errors = room.each(lambda s: s.pull())
    kept = arrived = 0
    for s in room.students:
        text = json.dumps(s.notebook(SAMPLING))
        kept += f"My note ({s.name})." in text
        arrived += hint in text
    n = len(room.students)
    ok = kept == arrived == n and not any(errors)
    return ok, f"edits kept {kept}/{n}, update arrived {arrived}/{n}, pull errors {sum(e is not None for e in errors)}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=30, help="how many students (default 30)")
    ap.add_argument("--chapters", nargs="+", default=list(CHAPTERS), help="notebooks each student runs, "
                    "the sampling chapter among them (default: chapters 06 and 03)")
    ap.add_argument("--browser-students", type=int, default=3, help="how many of the students work in real "
                    "Chromium pages instead, on the sampling chapter (default 3; 0: none)")
    ap.add_argument("--deadline", type=float, default=1800, help="stop after this many seconds (default 1800)")
    args = ap.parse_args(argv)
    if SAMPLING not in args.chapters:
        ap.error(f"--chapters must include {SAMPLING} (its explorer's sliders are moved)")
    if args.students - args.browser_students < 2 or args.browser_students < 0:
        ap.error("--students must exceed --browser-students by 2 or more (the faults need a victim and the "
                 "others, over the kernel protocol)")
    timer = threading.Timer(args.deadline, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.daemon = True
    timer.start()
    load = os.getloadavg()
    t0 = time.perf_counter()
    with Classroom(args.students, browsers=args.browser_students) as room:
        everyone = room.browsers + room.students
        errors = room.each(lambda s: s.lesson(args.chapters), everyone)
        for s, e in zip(everyone, errors):
            if e is not None:
                print(f"failed: {s.name}: {e!r}")
        pages = [s for s, e in zip(room.browsers, errors) if e is None]
        errors = errors[len(room.browsers):]
        well = [s for s, e in zip(room.students, errors) if e is None]
        cells = [ms for s in well for ms in s.cell_ms]
        sliders = [ms for s in well for ms in s.slider_ms]
        slider_p95 = percentile(sliders, 95)
        lesson_s = time.perf_counter() - t0
        cpu = [cpu_s(user_pids(name)) for name in room.names]
        peak = max(room.memory.peak.values())
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
        print(f"lesson wall time: {lesson_s:.0f} s (log in, pull, {' '.join(args.chapters)}, "
              f"{2 * MOVES} slider moves)")
        print(f"cells: {len(cells)} timed, p50 {percentile(cells, 50):.0f} ms, p95 {percentile(cells, 95):.0f} ms")
        print(f"sliders: {len(sliders)} moves, p50 {percentile(sliders, 50):.0f} ms, p95 {slider_p95:.0f} ms")
        if room.browsers:
            run_all = [ms for s in pages for ms in s.run_all_ms]
            in_page = [ms for s in pages for ms in s.slider_ms]
            print(f"in Chromium ({len(pages)} of {len(room.browsers)} pages did the lesson, chapter 06 only): "
                  f"Run All p50 {percentile(run_all, 50) / 1000:.1f} s; {len(in_page)} slider key presses until "
                  f"redrawn, p50 {percentile(in_page, 50):.0f} ms, p95 {percentile(in_page, 95):.0f} ms")
        print(f"memory per student (PSS, peak): max {peak:.0f} MB, median "
              f"{statistics.median(room.memory.peak.values()):.0f} MB")
        print(f"CPU per student for the lesson: median {statistics.median(cpu):.1f} s, max {max(cpu):.1f} s")
        faults = [("kernel killed", lambda: fault_kernel_killed(room)),
                  ("big paste", lambda: (lambda ok, p95, seen: (ok, f"{seen}; others' slider p95 {p95:.0f} ms vs "
                                                                     f"{slider_p95:.0f} ms without "
                                                                     f"({p95 / slider_p95:.2f}x)"))(
                      *fault_big_paste(room, slider_p95))),
                  ("hub restart", lambda: fault_hub_restart(room)),
                  ("teacher update", lambda: fault_teacher_update(room))]
        failed_faults = 0
        if len(well) == len(room.students) and len(pages) == len(room.browsers):
            for name, run in faults:
                try:
                    ok, seen = run()
                except Exception as e:  # noqa: BLE001
                    ok, seen = False, repr(e)
                failed_faults += not ok
                print(f"fault {name}: {'ok' if ok else 'FAILED'}: {seen}")
        else:
            print("faults: not run (a student failed the lesson)")
            failed_faults = len(faults)
        print(f"memory per student (PSS, peak) over the lesson and the faults: max "
              f"{max(room.memory.peak.values()):.0f} MB (the paste and the restarted kernel among them)")
        total_gb = room.memory.peak_total / 1024
        print(f"students={args.students} failed={len(everyone) - len(well) - len(pages)} "
              f"cells_p50_ms={percentile(cells, 50):.0f} cells_p95_ms={percentile(cells, 95):.0f} "
              f"slider_p95_ms={slider_p95:.0f} peak_pss_mb_per_student={peak:.0f} hub_total_gb={total_gb:.2f}")
    return 1 if failed_faults or len(well) + len(pages) < args.students else 0


if __name__ == "__main__":
    sys.exit(main())
