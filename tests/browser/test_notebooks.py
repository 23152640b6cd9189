"""Every chapter runs in JupyterLab in Chromium: Run All Cells, no error output, every widget drawn.

The chapters with the sampling, attention and generation explorers are run (and checked the same
way) by their own test modules, which then drive the explorer on the same page.
"""

import pytest

from .harness import INTERACTIVE, notebook_holding, notebook_names

pytestmark = pytest.mark.browser

DRIVEN_ELSEWHERE = {notebook_holding(code) for code in INTERACTIVE}


@pytest.mark.parametrize("name", [n for n in notebook_names() if n not in DRIVEN_ELSEWHERE])
def test_notebook_runs_clean_in_jupyterlab(run_notebook, name):
    nb = run_notebook(name)
    try:
        nb.assert_clean()
    finally:
        nb.close()
