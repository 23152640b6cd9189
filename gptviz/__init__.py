"""gptviz: how GPT-2 and GPT-3 work, shown on a real model.

    import gptviz
    model = gptviz.load()                  # the bundled offline model (or "gpt2" when online)
    trace = model.trace("A robot must obey the orders given it.")
    trace["blocks.0.attn.pattern"]         # [n_head, T, T] attention coefficients
"""

from .config import PRESETS, GPTConfig
from . import viz
from .errors import GptvizError, InputError, LoadError, TraceTooLargeError
from .export import export, export_heads
from .generation import Stepper, generate
from .lens import logit_lens
from .memory import release_memory
from .hub import load
from .kvcache import KVCache
from .model import GPT
from .sampling import distribution
from .tokenizer import Tokenizer, get_tokenizer
from .trace import Trace, activation_shapes, trace_nbytes

__version__ = "0.1.0"

__all__ = [
    "GPT", "GPTConfig", "GptvizError", "InputError", "KVCache", "LoadError", "PRESETS", "Stepper", "Tokenizer",
    "Trace", "TraceTooLargeError", "activation_shapes", "distribution", "export", "export_heads", "generate",
    "get_tokenizer", "load", "logit_lens", "release_memory", "trace_nbytes", "viz",
]
