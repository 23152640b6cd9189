"""The project's own files agree with each other: dependencies, README, CI."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_installs_what_pyproject_declares():
    project = _pyproject()
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == declared
    assert "-e ." in pip


def test_torch_is_pinned_to_the_cpu_wheel():
    assert "torch==2.13.0" in _pyproject()["dependencies"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^(time )?make test$", ci, re.M)


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r"notebooks/(\d\d[\w-]*\.ipynb)", readme)
    present = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert present, "no notebooks"
    assert sorted(set(listed)) == present


def test_vocabulary_ships_with_its_licence():
    vocab = ROOT / "assets" / "vocab"
    assert (vocab / "gpt2.tiktoken").exists() and "MIT" in (vocab / "LICENSE").read_text()
