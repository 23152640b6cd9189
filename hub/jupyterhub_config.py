"""JupyterHub for a class on one machine: ``make hub`` (a teacher) and ``benchmarks/classroom.py`` (the
measured class) both start the hub with this file; environment variables set what differs between them.

* ``GPTVIZ_HUB_PASSWORD`` (required, >= 8 characters): the one password every student types, with any
  username (JupyterHub's SharedPasswordAuthenticator). Fit for a lab room behind a firewall, not for a
  network others reach: see README, "Teaching a class".
* ``GPTVIZ_HUB_STATE`` (default ``hub/state``, git-ignored): the hub's database, cookie secret, proxy pid
  file and every student's home folder ``homes/<username>``.
* ``GPTVIZ_HUB_PORT`` (default 8000): the public port, on 127.0.0.1 only; the hub's API port is the next one.
* ``GPTVIZ_HUB_API_TOKEN`` (optional): a token for the ``classroom`` service with the admin role (the
  benchmark uses it to read server state and make per-student tokens).
* ``GPTVIZ_THREADS`` (default 1): torch threads in each student's kernel, so one student's forward pass
  cannot take every core of a shared machine.

Each student's server is this environment's ``jupyterhub-singleuser`` (JupyterLab and gptviz, nbgitpuller
enabled), run as the same system user as the hub with its own home folder (SimpleLocalProcessSpawner).
"""

import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ.get("GPTVIZ_HUB_STATE", HERE / "state")).resolve()
PORT = int(os.environ.get("GPTVIZ_HUB_PORT", "8000"))
PASSWORD = os.environ.get("GPTVIZ_HUB_PASSWORD", "")
if len(PASSWORD) < 8:
    sys.exit("Set GPTVIZ_HUB_PASSWORD to the class password (at least 8 characters), "
             "e.g. `make hub GPTVIZ_HUB_PASSWORD=...`")
(STATE / "homes").mkdir(parents=True, exist_ok=True)

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# A hub restart mid-lesson leaves the students' servers and kernels running; the new hub finds them again.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = False
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
# The proxy outlives a hub restart, so the token the hub talks to it with is kept in the state folder.
proxy_token = STATE / "proxy_token"
if not proxy_token.exists():
    proxy_token.write_text(secrets.token_hex(32))
    proxy_token.chmod(0o600)
c.ConfigurableHTTPProxy.auth_token = proxy_token.read_text().strip()

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allow_all = True

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
if os.getuid() == 0:  # a container run as root: every student's server runs as root too (see the README)
    c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 180  # a cold JupyterLab on a loaded machine
c.Spawner.http_timeout = 180
c.Spawner.environment = {"GPTVIZ_THREADS": os.environ.get("GPTVIZ_THREADS", "1"),
                         "HF_HUB_OFFLINE": "1", "PLOTLY_RENDERER": "plotly_mimetype"}

token = os.environ.get("GPTVIZ_HUB_API_TOKEN")
if token:
    c.JupyterHub.services = [{"name": "classroom", "api_token": token}]
    c.JupyterHub.load_roles = [{"name": "admin", "services": ["classroom"]}]
