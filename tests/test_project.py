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


CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # torch's CPU builds for Linux (and the rest)


def _environment():
    """environment.yml, and the list of its pip section."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return env, next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def test_environment_yml_installs_what_pyproject_declares():
    project = _pyproject()
    extras = project["optional-dependencies"]
    declared = set(project["dependencies"]) | set(extras["dev"]) | set(extras["hub"])
    env, pip = _environment()
    assert {p for p in pip if not p.startswith("-")} == declared
    assert "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    oldest = project["requires-python"].removeprefix(">=")
    version = tuple(int(n) for n in python.removeprefix("python=").split("."))
    assert version >= tuple(int(n) for n in oldest.split(".")), (python, project["requires-python"])


def test_torch_is_pinned_and_its_cpu_build_is_one_variable_away():
    assert "torch==2.13.0" in _pyproject()["dependencies"]
    _, pip = _environment()
    assert f"--extra-index-url {CPU_INDEX}" in pip  # a Binder or hub image: no CUDA libraries
    make = (ROOT / "Makefile").read_text()
    assert _make_variable("TORCH_INDEX") == ""  # empty by default: nothing changes
    assert re.search(r"pip install .*torch==2\.13\.0 \$\(if \$\(TORCH_INDEX\),--extra-index-url \$\(TORCH_INDEX\),\)", make)
    assert f"TORCH_INDEX={CPU_INDEX}" in (ROOT / "README.md").read_text()


def test_binder_reads_the_root_files_and_installs_gptviz_with_its_settings():
    """repo2docker reads environment.yml from binder/ (or .binder/) when that folder exists, else from
    the root. It installs gptviz with pip (``-e .``), which puts the Notebook 7 settings in place
    (tests/test_jupyter_settings.py), so no postBuild step is needed."""
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    _, pip = _environment()
    assert "-e ." in pip
    assert not (ROOT / "postBuild").exists()
    badge = re.search(r"\(https://mybinder\.org/v2/gh/[^)]*\?urlpath=lab/tree/([^)]+)\)", (ROOT / "README.md").read_text())
    assert badge and (ROOT / badge.group(1)).is_file()


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
