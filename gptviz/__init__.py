"""gptviz: how GPT-2 and GPT-3 work, shown on a real model.

    import gptviz
    model = gptviz.load()                  # the bundled offline model (or "gpt2" when online)
    trace = model.trace("A robot must obey the orders given it.")
    trace["blocks.0.attn.pattern"]         # [n_head, T, T] attention coefficients

``import gptviz`` loads the configuration, the errors and export; the rest (the model and PyTorch, the
views and matplotlib / plotly) is imported when first used, so that the command line, a notebook's
first cell and a test worker start in a fraction of a second.
"""

from .config import PRESETS, GPTConfig
from .errors import GptvizError, InputError, LoadError, TraceTooLargeError
from .export import export, export_heads  # eager: gptviz.export must stay the function, not its module
from .lazy import lazy_attributes
from .memory import release_memory

__version__ = "0.1.0"

__all__ = [
    "GPT", "GPTConfig", "GptvizError", "InputError", "KVCache", "LoadError", "PRESETS", "Stepper", "Tokenizer",
    "Trace", "TraceTooLargeError", "activation_shapes", "distribution", "export", "export_heads", "generate",
    "get_tokenizer", "load", "logit_lens", "release_memory", "trace_nbytes", "viz",
]

#: The module of each name imported when first used (``gptviz.load``, ``from gptviz import GPT``).
_LAZY = {
    "GPT": "model", "KVCache": "kvcache", "Stepper": "generation", "Tokenizer": "tokenizer", "Trace": "trace",
    "activation_shapes": "trace", "distribution": "sampling", "generate": "generation",
    "get_tokenizer": "tokenizer", "load": "hub", "logit_lens": "lens", "trace_nbytes": "trace",
    "viz": None,  # the views, which load matplotlib and plotly
}

__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, __all__)
