"""The shape of a GPT: one dataclass, the published sizes, and a parameter count.

Every number that fixes a GPT-2 (or GPT-3) architecture lives in :class:`GPTConfig`. The field names
are gptviz's own (``d_model``, ``n_ctx``); :meth:`GPTConfig.from_hf` and :meth:`GPTConfig.to_hf`
translate to and from the ``config.json`` that Hugging Face checkpoints carry (``n_embd``,
``n_positions``).
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field

from .errors import InputError, LoadError

#: Activation names that mean GPT-2's tanh-approximated GELU in Hugging Face configs.
TANH_GELU_NAMES = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


_GPT2_SMALL = dict(vocab_size=50257, n_ctx=1024, d_model=768, n_layer=12, n_head=12, d_mlp=3072)


@dataclass(frozen=True)
class GPTConfig:
    """The hyper-parameters of a GPT-2-architecture model.

    Defaults are GPT-2 small (124M parameters).
    """

    vocab_size: int = 50257  # rows of the token embedding: 50,000 merges + 256 bytes + <|endoftext|>
    n_ctx: int = 1024  # rows of the position embedding: the longest sequence the model can read
    d_model: int = 768  # width of every vector in the residual stream
    n_layer: int = 12  # number of decoder blocks
    n_head: int = 12  # attention heads per block; each works in d_model / n_head dimensions
    d_mlp: int = 0  # hidden width of the feed-forward layer; 0 means the usual 4 * d_model
    layer_norm_eps: float = 1e-5  # added to the variance inside every LayerNorm
    name: str = field(default="", compare=False)  # a label for messages and figures

    def __post_init__(self) -> None:
        for key in ("vocab_size", "n_ctx", "d_model", "n_layer", "n_head", "d_mlp"):
            value, least = getattr(self, key), 0 if key == "d_mlp" else 1
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                default = " (0: 4 * d_model)" if key == "d_mlp" else ""
                raise InputError(f"GPTConfig({key}=...) must be a whole number >= {least}{default}, got {value!r}: "
                                 f"e.g. GPTConfig({key}={_GPT2_SMALL[key]}) as in GPT-2 small")
            object.__setattr__(self, key, int(value))
        eps = self.layer_norm_eps
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
            raise InputError(f"GPTConfig(layer_norm_eps=...) must be a small number > 0, got {eps!r}: GPT-2 uses 1e-05")
        if self.d_model % self.n_head:
            raise InputError(
                f"GPTConfig(d_model={self.d_model}) must be divisible by n_head={self.n_head}: each head works on "
                f"an equal slice of the vector, so pick d_model a multiple of n_head (e.g. d_model={64 * self.n_head})"
            )
        if self.d_mlp == 0:
            object.__setattr__(self, "d_mlp", 4 * self.d_model)

    @property
    def d_head(self) -> int:
        """Width of one head's query, key and value vectors."""
        return self.d_model // self.n_head

    # ---- Hugging Face config.json ---------------------------------------------------------
    @classmethod
    def from_hf(cls, hf: dict, name: str = "") -> "GPTConfig":
        """Read a Hugging Face GPT-2 ``config.json`` (as a dict); refuse other architectures."""
        model_type = hf.get("model_type")
        if model_type != "gpt2":
            raise LoadError(
                f"config.json describes model_type={model_type!r}, not 'gpt2': gptviz runs the GPT-2 "
                "architecture only (gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, or a checkpoint "
                "saved from transformers.GPT2LMHeadModel)"
            )
        act = hf.get("activation_function", "gelu_new")
        if act not in TANH_GELU_NAMES:
            raise LoadError(
                f"config.json uses activation_function={act!r}; GPT-2 uses the tanh GELU "
                f"({', '.join(TANH_GELU_NAMES)}). gptviz would compute different numbers, so it refuses"
            )
        unsupported = {
            "scale_attn_weights": True,
            "scale_attn_by_inverse_layer_idx": False,
            "reorder_and_upcast_attn": False,
            "add_cross_attention": False,
        }
        for key, expected in unsupported.items():
            if hf.get(key, expected) != expected:
                raise LoadError(
                    f"config.json sets {key}={hf[key]!r}; gptviz implements GPT-2 as published "
                    f"({key}={expected!r}) and would not match this checkpoint"
                )
        try:
            return cls(
                vocab_size=int(hf["vocab_size"]),
                n_ctx=int(hf.get("n_positions", hf.get("n_ctx", 1024))),
                d_model=int(hf["n_embd"]),
                n_layer=int(hf["n_layer"]),
                n_head=int(hf["n_head"]),
                d_mlp=int(hf.get("n_inner") or 0),
                layer_norm_eps=float(hf.get("layer_norm_epsilon", 1e-5)),
                name=name,
            )
        except KeyError as missing:
            raise LoadError(f"config.json has no {missing} field; it is not a GPT-2 config") from None

    def to_hf(self) -> dict:
        """The ``config.json`` dict that ``transformers.GPT2Config`` reads."""
        return {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "vocab_size": self.vocab_size,
            "n_positions": self.n_ctx,
            "n_ctx": self.n_ctx,
            "n_embd": self.d_model,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": None if self.d_mlp == 4 * self.d_model else self.d_mlp,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": self.layer_norm_eps,
            "bos_token_id": 50256,
            "eos_token_id": 50256,
            "tie_word_embeddings": True,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
        }

    def to_dict(self) -> dict:
        return asdict(self)

    # ---- counting -------------------------------------------------------------------------
    def param_counts(self) -> dict[str, int]:
        """Parameters by family, counted from the shapes alone (the unembedding is tied, so 0).

        Keys: ``token_embedding`` (vocab x d_model), ``position_embedding`` (n_ctx x d_model),
        ``attention`` (q, k, v and output projections with biases, all layers), ``mlp`` (both
        feed-forward matrices with biases, all layers), ``layer_norm`` (scales and biases), ``total``.
        """
        d, f, L = self.d_model, self.d_mlp, self.n_layer
        counts = {
            "token_embedding": self.vocab_size * d,
            "position_embedding": self.n_ctx * d,
            "attention": L * (d * 3 * d + 3 * d + d * d + d),
            "mlp": L * (d * f + f + f * d + d),
            "layer_norm": (2 * L + 1) * 2 * d,
        }
        counts["total"] = sum(counts.values())
        return counts

    @property
    def n_params(self) -> int:
        """Total parameter count (tied unembedding counted once)."""
        return self.param_counts()["total"]


def _gpt3(name: str, n_layer: int, d_model: int, n_head: int) -> GPTConfig:
    return GPTConfig(n_ctx=2048, d_model=d_model, n_layer=n_layer, n_head=n_head, name=name)


#: Published sizes. GPT-2 from its checkpoints' config.json; GPT-3 from Table 2.1 of
#: "Language Models are Few-Shot Learners" (Brown et al., 2020), which kept GPT-2's design (GPT-3
#: also alternates dense and locally banded sparse attention, which changes no parameter count).
PRESETS: dict[str, GPTConfig] = {
    "gpt2": GPTConfig(name="gpt2"),
    "distilgpt2": GPTConfig(n_layer=6, name="distilgpt2"),
    "gpt2-medium": GPTConfig(d_model=1024, n_layer=24, n_head=16, name="gpt2-medium"),
    "gpt2-large": GPTConfig(d_model=1280, n_layer=36, n_head=20, name="gpt2-large"),
    "gpt2-xl": GPTConfig(d_model=1600, n_layer=48, n_head=25, name="gpt2-xl"),
    "gpt3-small": _gpt3("gpt3-small", 12, 768, 12),
    "gpt3-medium": _gpt3("gpt3-medium", 24, 1024, 16),
    "gpt3-large": _gpt3("gpt3-large", 24, 1536, 16),
    # The paper lists 24 heads of 128 dimensions for XL, which cannot tile d_model = 2048 (they make
    # 3072, which would be 2.9B parameters, not the stated 1.3B or Table D.1's 1,320M); 16 heads of
    # 128 do, and give the same parameter count (heads do not change it). gptviz.scale holds the
    # paper's tables.
    "gpt3-xl": _gpt3("gpt3-xl", 24, 2048, 16),
    "gpt3-2.7b": _gpt3("gpt3-2.7b", 32, 2560, 32),
    "gpt3-6.7b": _gpt3("gpt3-6.7b", 32, 4096, 32),
    # Table 2.1 prints d_model 5140, which 40 heads cannot split; 40 heads x 128 = 5120, and the
    # paper's Table D.1 counts 12,850M parameters, what 5120 gives (5140: 12,953M).
    "gpt3-13b": _gpt3("gpt3-13b", 40, 5120, 40),
    "gpt3-175b": _gpt3("gpt3-175b", 96, 12288, 96),
}
