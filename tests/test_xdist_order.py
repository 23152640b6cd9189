"""The order in which ``make test`` hands modules to its workers (tests/xdist_order.py)."""

from xdist_order import SECONDS, work_queue  # tests/ is on sys.path (rootdir conftest)

COLLECTED = [
    "tests/test_bad_input.py::test_a", "tests/test_bad_input.py::test_b", "tests/test_bad_input.py::test_c",
    "tests/browser/test_notebooks.py::test_notebook_runs_clean_in_jupyterlab[00-welcome.ipynb]",
    "tests/browser/test_notebooks.py::test_notebook_runs_clean_in_jupyterlab[10-circuits.ipynb]",
    "tests/test_nbgrader.py::test_x", "tests/test_nbgrader.py::test_y",
    "notebooks/00-welcome.ipynb::Cell 0", "notebooks/10-circuits.ipynb::Cell 0", "notebooks/10-circuits.ipynb::Cell 1",
    "tests/test_loss.py::test_z",
]


def test_the_longest_scopes_go_first_then_the_ones_with_most_tests():
    queue = list(work_queue(COLLECTED))
    assert queue[:3] == ["tests/browser/test_notebooks.py::test_notebook_runs_clean_in_jupyterlab[10-circuits.ipynb]",
                         "notebooks/10-circuits.ipynb", "tests/test_nbgrader.py"]
    assert queue.index("notebooks/00-welcome.ipynb") < queue.index("tests/test_bad_input.py")  # 12 s, 3 tests
    assert queue.index("tests/test_bad_input.py") < queue.index("tests/test_loss.py")  # unmeasured: 3 tests, 1


def test_every_test_is_queued_once_and_each_browser_chapter_alone():
    queue = work_queue(COLLECTED)
    assert sorted(n for tests in queue.values() for n in tests) == sorted(COLLECTED)
    assert all(not done for tests in queue.values() for done in tests.values())
    assert queue["tests/test_nbgrader.py"] == {"tests/test_nbgrader.py::test_x": False, "tests/test_nbgrader.py::test_y": False}
    browser = [s for s in queue if s.startswith("tests/browser/test_notebooks.py")]
    assert len(browser) == 2 and all(len(queue[s]) == 1 for s in browser)


def test_the_table_names_scopes_that_exist():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    for scope in SECONDS:
        path = scope.split("::")[0]
        assert (root / path).exists(), f"SECONDS names {path}, which is gone: update tests/xdist_order.py"
