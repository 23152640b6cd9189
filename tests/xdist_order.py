"""pytest-xdist with ``--dist loadscope``: the longest work first, so that no worker is left running a
long chapter alone at the end (``make test`` and ``make test-portable`` load it with ``-p tests.xdist_order``).

xdist hands out whole modules (scopes), by default the ones with the most tests first; but a module's
time is not its count of tests: ``notebooks/07-generation.ipynb`` (15 cells, ~70 s) and
``tests/browser/test_notebooks.py`` (8 tests, every chapter in JupyterLab) came last and ran alone
while the other worker had finished. Here the scopes go out by :data:`SECONDS` (measured on the
project's 2-core machine; a rough guide, since only the order depends on it), then by their count of
tests, and each chapter of ``test_notebooks.py`` is a scope of its own (a test each, sharing the
worker's browser and server), so the slowest chapters of both nbval and the browser start first.

Every test still runs, once; only the order and the worker change.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
from xdist.scheduler import LoadScopeScheduling

# Seconds per scope, for the scopes above ~10 s: nbval and tests/ measured one module at a time on the
# 2-core machine at load average ~4 (2026-12-07), the browser tests at ~6 and scaled by 4/6; the hub's
# is a guess (its proxy was not installed). Unlisted scopes count 0 and go by their count of tests.
_JUPYTERLAB = "tests/browser/test_notebooks.py::test_notebook_runs_clean_in_jupyterlab[{}.ipynb]"
SECONDS = {
    "notebooks/10-circuits.ipynb": 174, _JUPYTERLAB.format("10-circuits"): 180,
    "tests/test_nbgrader.py": 101,
    _JUPYTERLAB.format("08-training"): 90, "tests/browser/test_generation.py": 90,
    "tests/browser/test_site.py": 85, "tests/browser/test_sampling.py": 75,
    "notebooks/07-generation.ipynb": 71, "tests/test_jupyterhub.py": 60,
    "tests/test_bundled.py": 47, "notebooks/08-training.ipynb": 43, _JUPYTERLAB.format("09-scale"): 43,
    "tests/browser/test_attention.py": 40, "tests/browser/test_pip_install.py": 33,
    _JUPYTERLAB.format("04-feed-forward"): 31, _JUPYTERLAB.format("01-tokens"): 30,
    _JUPYTERLAB.format("02-embeddings"): 30, "tests/browser/test_voila.py": 30,
    _JUPYTERLAB.format("05-layer-stack"): 28, _JUPYTERLAB.format("00-welcome"): 25,
    "tests/test_working_copy.py": 23, "notebooks/04-feed-forward.ipynb": 16,
    "notebooks/05-layer-stack.ipynb": 14, "notebooks/09-scale.ipynb": 13, "tests/browser/test_heads_page.py": 12,
    "tests/test_parity.py": 12, "notebooks/00-welcome.ipynb": 12,
}
SPLIT = ("tests/browser/test_notebooks.py::",)  # modules whose every test is a scope of its own


def scope_of(nodeid: str) -> str:
    """A test's scope: its module (or class), or the test itself in a :data:`SPLIT` module."""
    return nodeid if nodeid.startswith(SPLIT) else nodeid.rsplit("::", 1)[0]


def work_queue(nodeids: list[str]) -> OrderedDict[str, dict[str, bool]]:
    """The scopes of ``nodeids``, longest first (:data:`SECONDS`, then most tests, then as collected),
    each mapping its tests to False (not run), as :class:`LoadScopeScheduling` keeps its queue."""
    scopes: dict[str, dict[str, bool]] = {}
    for nodeid in nodeids:
        scopes.setdefault(scope_of(nodeid), {})[nodeid] = False
    order = sorted(scopes, key=lambda s: (-SECONDS.get(s, 0), -len(scopes[s])))
    return OrderedDict((s, scopes[s]) for s in order)


class LongestFirst(LoadScopeScheduling):
    """``--dist loadscope`` with the scopes handed out longest first (:data:`SECONDS`)."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)

    def schedule(self) -> None:
        if self.collection is None and self._check_nodes_have_same_collection():
            # The base class builds the queue from the collection when it is None: build it here, in our
            # order, and let it distribute (it only reads self.collection afterwards).
            collection = list(next(iter(self.registered_collections.values())))
            self.workqueue, self.collection = work_queue(collection), collection
            if not collection:
                return
            for _ in range(len(self.nodes) - len(self.workqueue)):  # more workers than scopes
                self.assigned_work.popitem()[0].shutdown()
            for node in self.nodes:
                self._assign_work_unit(node)
            for node in self.nodes:
                self._reschedule(node)
            if not self.workqueue:
                for node in self.nodes:
                    node.shutdown()
            return
        super().schedule()


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadscope":
        return LongestFirst(config, log)
    return None
