"""The allocator policy of gptviz.memory: the activations' memory a trace frees is reused by the next
ones without page faults (glibc), and GPTVIZ_KEEP_MEMORY=0 leaves the allocator as it was. Each case runs in a fresh
interpreter: the policy is process-wide."""

import json
import os
import subprocess
import sys

import pytest

from gptviz.memory import _glibc

pytestmark = pytest.mark.skipif(_glibc() is None, reason="the policy applies to glibc only")

# Four full traces of 1,024 tokens (each layer's scores and patterns are 48 MiB, the logits 196 MiB),
# and the page faults each one took.
PROBE = """
import json, resource
from gptviz import GPT, GPTConfig
from gptviz.memory import keep_freed_memory, release_memory
model = GPT(GPTConfig(n_layer=2, n_head=12, d_model=96, n_ctx=1024, name="probe")).init_weights()
ids = list(range(1000, 2024))
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
counts = []
for _ in range(4):
    before = faults()
    model.trace(ids)
    counts.append(faults() - before)
print(json.dumps({"kept": keep_freed_memory(), "faults": counts, "released": release_memory()}))
"""


def probe(keep: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, "GPTVIZ_KEEP_MEMORY": keep},
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_trace_reuses_the_memory_of_the_last_one():
    kept, default = probe("1"), probe("0")
    assert kept["kept"] and not default["kept"]
    pages = 2 * 2 * 12 * 1024 * 1024 * 4 // 4096  # the scores and patterns alone
    logits = 1024 * 50257 * 4 // 4096  # the one block that may not fit a hole the last trace left
    assert min(default["faults"]) > pages + logits, default  # glibc hands every large block back
    # From the third trace on, the activations' memory is reused. Whether the logits fit the freed heap
    # again depends on where small blocks landed in between (it varies from run to run), so they may
    # fault in again, but nothing else does.
    assert max(kept["faults"][2:]) < logits + pages // 100, kept
    assert kept["released"], "release_memory() should hand the kept memory back"


def test_trace_turns_the_policy_on(odd_checkpoint):
    code = (f"import gptviz, gptviz.memory as m; model = gptviz.load({str(odd_checkpoint)!r}); "
            "before = m._kept; model.trace('A robot must obey.'); print(before, m._kept)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "GPTVIZ_KEEP_MEMORY": "1"})
    assert out.stdout.split() == ["False", "True"]
