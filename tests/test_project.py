"""The project's own files agree with each other: dependencies, README, CI."""

import importlib.util
import os
import re
import shlex
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):
    """A module of tools/ (not a package), imported from its file."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make_variable(name: str) -> str:
    """The value of ``NAME := ...`` (or ``?=``, ``=``) in the Makefile, continuation lines joined."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return re.search(rf"^{name}\s*[:?]?=(.*)$", text, re.M).group(1).strip()


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


def test_ci_runs_the_readme_test_command_and_the_portable_nbval():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^(time )?make test$", ci, re.M)
    assert re.search(r"^(time )?make test-portable$", ci, re.M)


def test_the_portable_switches_take_effect():
    """Every switch the Makefile sets for ``make test-portable`` changes what a fresh interpreter
    uses: torch threads, PyTorch's CPU capability, oneDNN's ISA, MKL's code path."""
    portable = _tool("portable_nbval")
    switches = dict(item.split("=", 1) for item in shlex.split(_make_variable("PORTABLE")))
    assert set(switches) == set(portable.SWITCHES)
    env = {k: v for k, v in os.environ.items() if k not in portable.SWITCHES}
    seen = portable.observe({**env, **switches})
    assert portable.unmet(switches, seen) == [], seen
    assert seen["threads"] == "2" and seen["capability"] == "DEFAULT" and seen["mkl_cnr"] == "COMPATIBLE"


def test_a_switch_without_effect_is_reported():
    portable = _tool("portable_nbval")
    switches = {"GPTVIZ_THREADS": "2", "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                "MKL_CBWR": "COMPATIBLE"}
    untouched = {"threads": "1", "capability": "AVX2", "onednn_isa": "Intel AVX2", "mkl_cnr": "OFF"}
    assert [line.split("=")[0] for line in portable.unmet(switches, untouched)] == list(portable.SWITCHES)


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r"notebooks/(\d\d[\w-]*\.ipynb)", readme)
    present = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert present, "no notebooks"
    assert sorted(set(listed)) == present


def test_vocabulary_ships_with_its_licence():
    vocab = ROOT / "assets" / "vocab"
    assert (vocab / "gpt2.tiktoken").exists() and "MIT" in (vocab / "LICENSE").read_text()
