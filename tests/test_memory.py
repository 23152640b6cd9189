"""The allocator policy of gptviz.memory: memory a trace frees is reused by the next one without page
faults (glibc), and GPTVIZ_KEEP_MEMORY=0 leaves the allocator as it was. Each case runs in a fresh
interpreter: the policy is process-wide."""

import json
import os
import subprocess
import sys

import pytest

from gptviz.memory import _glibc

pytestmark = pytest.mark.skipif(_glibc() is None, reason="the policy applies to glibc only")

# Fault in a 256 MiB tensor, free it, then count the page faults of allocating and filling another.
PROBE = """
import json, resource, torch
from gptviz.memory import keep_freed_memory, release_memory
kept = keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
x = torch.ones(64 * 2**20); del x
before = faults()
y = torch.ones(64 * 2**20)
again = faults() - before
del y
released = release_memory()
print(json.dumps({"kept": kept, "faults": again, "released": released}))
"""


def probe(**env) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_freed_memory_is_reused_without_page_faults():
    kept, default = probe(GPTVIZ_KEEP_MEMORY="1"), probe(GPTVIZ_KEEP_MEMORY="0")
    pages = 256 * 2**20 // 4096
    assert kept["kept"] and not default["kept"]
    assert default["faults"] > pages // 2, default  # glibc returned the block; every page faults again
    assert kept["faults"] < pages // 20, kept  # the freed block was reused
    assert kept["released"], "release_memory() should hand the kept 256 MiB back"


def test_trace_turns_the_policy_on(odd_checkpoint):
    code = (f"import gptviz, gptviz.memory as m; model = gptviz.load({str(odd_checkpoint)!r}); "
            "before = m._kept; model.trace('A robot must obey.'); print(before, m._kept)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "GPTVIZ_KEEP_MEMORY": "1"})
    assert out.stdout.split() == ["False", "True"]
