"""JupyterHub for a class on one machine: ``make hub`` (a teacher) and ``benchmarks/classroom.py`` (the
measured class) both start the hub with this file, behind the proxy ``classhub.py`` starts first;
environment variables set what differs between them.

* ``GPTVIZ_HUB_PASSWORD`` (required, >= 8 characters): the one password every student types, with any
  username (JupyterHub's SharedPasswordAuthenticator). Fit for a lab room behind a firewall, not for a
  network others reach: see README, "A class on one JupyterHub".
* ``GPTVIZ_HUB_STATE`` (default ``hub/state``, git-ignored): the hub's database, cookie secret, the
  proxy's token and pid file and every student's home folder ``homes/<username>``.
* ``GPTVIZ_HUB_PORT`` (default 8000): the public port (the proxy's); the hub listens on the next one, the
  proxy's API on the one after, both on 127.0.0.1.
* ``GPTVIZ_HUB_IP`` (default 127.0.0.1: this machine only): the address the proxy listens on for students,
  e.g. the lab network's.
* ``GPTVIZ_HUB_API_TOKEN`` (optional): a token for the ``classroom`` service with the admin role (the
  benchmark uses it to read server state and make per-student tokens).
* ``GPTVIZ_THREADS`` (default 1): torch threads in each student's kernel, so one student's forward pass
  cannot take every core of a shared machine.

Each student's server is this environment's ``jupyterhub-singleuser`` (JupyterLab and gptviz, nbgitpuller
enabled), run as the same system user as the hub with its own home folder (SimpleLocalProcessSpawner).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classhub  # noqa: E402 (this folder's launcher: the settings it shares with the hub)

STATE = classhub.state_dir()
PORT = classhub.public_port()
PASSWORD = os.environ.get("GPTVIZ_HUB_PASSWORD", "")
if len(PASSWORD) < 8:
    sys.exit("Set GPTVIZ_HUB_PASSWORD to the class password (at least 8 characters), "
             "e.g. `make hub GPTVIZ_HUB_PASSWORD=...`")

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

c.JupyterHub.bind_url = f"http://{classhub.public_ip()}:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# A hub restart mid-lesson leaves the students' servers, kernels and connections alone: the proxy runs on
# its own (classhub.py starts it before the hub), and the new hub finds the servers again.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = False
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.auth_token = classhub.proxy_token(STATE)

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
