"""nbval on every notebook with the CPU math on other code paths than the ones that wrote the stored
outputs. A stored output that holds rounding noise (a printed ``2e-12``, a digit next to a rounding
boundary, a near tie) then fails here, as it would on a student's laptop or a teacher's CI runner.

    make test-portable      # sets the switches below, then runs this script

Arguments after the script's name go to pytest. The Makefile runs one chapter at a time (``-p no:xdist``):
each kernel has 2 torch threads here, and two workers would put 4 busy threads on a 2-core machine.

The switches come from the environment (the Makefile's ``PORTABLE``); each is checked to take effect
in a fresh interpreter, as the notebook kernels start, before nbval runs:

======================  =============================================================================
``GPTVIZ_THREADS``      torch threads after ``gptviz.notebook.setup()`` (the chapters use 1 by default)
``ATEN_CPU_CAPABILITY`` PyTorch's own kernels (softmax, sums, GELU, randn): ``default`` = no AVX2/AVX512
``ONEDNN_MAX_CPU_ISA``  oneDNN's JIT kernels, e.g. ``SSE41`` (its verbose mode names the ISA in use)
``MKL_CBWR``            MKL's code path: ``COMPATIBLE`` works on any x86 CPU, Intel or not, and changes
                        the bits of torch's float32 matmuls (MKL's verbose mode reports ``CNR:COMPATIBLE``)
======================  =============================================================================

``MKL_ENABLE_INSTRUCTIONS`` is not used: MKL honours it on Intel CPUs only (on an AMD CPU it changes
nothing), while ``MKL_CBWR=COMPATIBLE`` already forces MKL's lowest path on every CPU.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWITCHES = ("GPTVIZ_THREADS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")

# Run in a child interpreter with MKL's and oneDNN's verbose modes on: one float32 matmul (MKL), one
# convolution (oneDNN), and the thread count and PyTorch capability the chapters' setup() leaves.
_PROBE = """
import json, torch
from gptviz.notebook import setup
setup()
torch.ones(64, 64) @ torch.ones(64, 64)
torch.nn.functional.conv2d(torch.ones(8, 16, 32, 32), torch.ones(32, 16, 3, 3))
print("PROBE " + json.dumps({"threads": torch.get_num_threads(),
                             "capability": torch.backends.cpu.get_cpu_capability()}))
"""


def observe(env: dict[str, str]) -> dict[str, str]:
    """What a fresh interpreter with ``env`` uses: ``threads``, ``capability`` (PyTorch), ``onednn_isa``
    and ``mkl_cnr`` (MKL's reproducibility mode: ``OFF`` or the ``MKL_CBWR`` branch)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**env, "MKL_VERBOSE": "1", "ONEDNN_VERBOSE": "1"},
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"the probe failed:\n{out.stderr[-2000:]}")
    probe = json.loads(re.search(r"^PROBE (.*)$", out.stdout, re.M).group(1))
    isa = re.search(r"onednn_verbose,.*?info,cpu,isa:(.*)", out.stdout)
    cnr = re.search(r"MKL_VERBOSE SGEMM.*?CNR:(\w+)", out.stdout)
    return {"threads": str(probe["threads"]), "capability": probe["capability"],
            "onednn_isa": isa.group(1).strip() if isa else "none", "mkl_cnr": cnr.group(1) if cnr else "none"}


def unmet(env: dict[str, str], seen: dict[str, str]) -> list[str]:
    """The switches set in ``env`` that did not take effect in ``seen`` (an :func:`observe` result)."""
    wanted = {
        "GPTVIZ_THREADS": lambda v: seen["threads"] == v,
        "ATEN_CPU_CAPABILITY": lambda v: seen["capability"].lower() == v.lower(),
        # SSE41 -> "Intel SSE4.1", AVX2 -> "Intel AVX2": compare letters and digits only
        "ONEDNN_MAX_CPU_ISA": lambda v: re.sub(r"\W", "", v).lower() in re.sub(r"\W", "", seen["onednn_isa"]).lower(),
        "MKL_CBWR": lambda v: seen["mkl_cnr"] == v.split(",")[0],
    }
    return [f"{name}={env[name]} did not take effect (seen: {seen})" for name in SWITCHES
            if env.get(name) and not wanted[name](env[name])]


def main() -> int:
    env = dict(os.environ)
    missing = [name for name in SWITCHES if not env.get(name)]
    if missing:
        print(f"set {', '.join(missing)} (`make test-portable` sets them all)", file=sys.stderr)
        return 2
    seen = observe(env)
    failed = unmet(env, seen)
    print(f"portable nbval: {', '.join(f'{n}={env[n]}' for n in SWITCHES)}; in effect: {seen}", flush=True)
    if failed:
        print("\n".join(failed), file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "notebooks",
                            "--nbval-sanitize-with", "notebooks/sanitize.cfg", *sys.argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
