"""Loading weights: hub names, local checkpoints in the hub's format, and the bundled model.

A GPT-2 checkpoint on the Hugging Face hub is a ``config.json`` and a ``model.safetensors`` whose keys
match :class:`gptviz.model.GPT` after two adjustments: a ``transformer.`` prefix is dropped where
present, and the four Conv1D weights of each block (``attn.c_attn``, ``attn.c_proj``, ``mlp.c_fc``,
``mlp.c_proj``) are stored as ``(in, out)`` where ``torch.nn.Linear`` keeps ``(out, in)``, so they are
transposed. Nothing is unpickled from a file that could run code: safetensors, or
``torch.load(weights_only=True)`` for the older ``pytorch_model.bin``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from .config import GPTConfig
from .errors import LoadError
from .model import GPT
from .tokenizer import Tokenizer, assets_dir

#: gptviz name -> hub repository.
HUB_MODELS = {
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "gpt2-xl": "openai-community/gpt2-xl",
    "distilgpt2": "distilbert/distilgpt2",
}
#: The model trained by gptviz itself and shipped in assets/models/ (see gptviz.train).
BUNDLED = "gptviz-stories"

CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers in old checkpoints


def bundled_models() -> list[str]:
    """Names of the models in ``assets/models/``."""
    root = assets_dir() / "models"
    return sorted(p.name for p in root.iterdir() if (p / "config.json").exists()) if root.is_dir() else []


def known_names() -> list[str]:
    return list(HUB_MODELS) + bundled_models()


def load(name_or_path: str | os.PathLike | None = None, device: str | torch.device | None = None,
         dtype: str | torch.dtype | None = None) -> GPT:
    """A ready model (in eval mode, with GPT-2's tokenizer as ``model.tokenizer``).

    ``name_or_path``:
      * ``None``: ``$GPTVIZ_MODEL`` if set, else the bundled offline model;
      * a bundled model's name (``"gptviz-stories"``);
      * a hub name: ``"gpt2"``, ``"gpt2-medium"``, ``"gpt2-large"``, ``"gpt2-xl"``, ``"distilgpt2"``,
        downloaded once into the Hugging Face cache (``HF_HUB_OFFLINE=1`` uses the cache only);
      * a local directory in the hub's format (``config.json`` + ``model.safetensors`` or
        ``pytorch_model.bin``).

    ``device``: where the weights live; default a CUDA GPU when present, else the CPU. A device this
    machine does not have is a LoadError that lists the ones it has. ``dtype``: the weights' number
    type, one of :data:`DTYPES` (``torch.float32``, the default, or its name ``"float32"``; also
    ``float16``, ``bfloat16``, ``float64``). Traces always come back as float32 on the CPU.
    """
    device, dtype = _device(device), _dtype(dtype)
    if name_or_path is None:
        name_or_path = os.environ.get("GPTVIZ_MODEL") or BUNDLED
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        folder, label = path, path.name
    elif name in bundled_models():
        folder, label = assets_dir() / "models" / name, name
    elif name in HUB_MODELS:
        folder, label = _download(name), name
    elif name == BUNDLED:
        raise LoadError(
            f"The bundled model {BUNDLED!r} is not in {assets_dir() / 'models'}. Train it with "
            "`python -m gptviz.train` (the command is in assets/models/gptviz-stories/README.md), or load a hub model such as "
            "gptviz.load('gpt2') when online"
        )
    else:
        raise LoadError(
            f"Unknown model {name!r}: not a folder, not a bundled model and not a hub name. "
            f"Known names: {', '.join(known_names())}; or pass the path of a folder holding "
            "config.json and model.safetensors"
        )
    model = load_checkpoint(folder, name=label)
    model.source = str(folder)
    return model.to(device=device, dtype=dtype)


#: The weights' number types ``load(dtype=...)`` accepts, by name.
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def _dtype(dtype) -> torch.dtype:
    """``dtype`` (a torch dtype or its name) as one of :data:`DTYPES`; float32 when None."""
    if dtype is None:
        return torch.float32
    found = DTYPES.get(dtype.removeprefix("torch.")) if isinstance(dtype, str) else dtype
    if found not in DTYPES.values():
        raise LoadError(f"dtype={dtype!r} is not a number type gptviz runs in: use one of "
                        f"{', '.join(DTYPES)} (float32, the default, matches the reference GPT-2)")
    return found


def available_devices() -> list[str]:
    """The devices this machine has that torch can use, by name: ``cpu``, then each CUDA GPU, then
    Apple's ``mps`` where present."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def _device(device) -> torch.device:
    """``device`` as a torch device that exists here (default: a CUDA GPU when present, else the CPU);
    a LoadError listing :func:`available_devices` for any other."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    have = available_devices()
    advice = f"this machine has {', '.join(have)}: use device='cpu' (or leave device out)"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise LoadError(f"device={device!r} is not a device name; {advice}") from None
    if parsed.type == "meta":
        raise LoadError(f"device='meta' holds shapes but no numbers, so nothing could be computed; {advice}")
    if parsed.type == "cpu":
        usable = parsed.index in (None, 0)
    elif parsed.type == "cuda":
        usable = torch.cuda.is_available() and (parsed.index or 0) < torch.cuda.device_count()
    else:
        usable = parsed.type == "mps" and "mps" in have
    if not usable:
        raise LoadError(f"device={str(parsed)!r} is not on this machine (or not one torch can use here); {advice}")
    return parsed


_FILES = ("config.json", "model.safetensors")
_OFFLINE_ADVICE = ("Connect to the internet once (the files are then cached), copy a cached folder from another "
                   "machine and pass its path, or use the bundled offline model (gptviz.load() in Python, "
                   "no --model on the command line)")
REACH_SECONDS = 2.0  # how long to wait for the hub (or the proxy) to answer before calling it offline
ANSWER_SECONDS = 10.0  # how long a hub that took the connection may take to answer a request


def _download(name: str) -> Path:
    """Find a hub model's config and safetensors in the cache, else fetch them; return their folder.

    The cache is read first, so a cached model needs no network. Otherwise the hub must answer a
    connection within ``REACH_SECONDS``: with no network a load fails in about that time, not after
    the retries of a download (over 20 s).
    """
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    repo = HUB_MODELS[name]
    try:
        return Path([hf_hub_download(repo, f, local_files_only=True) for f in _FILES][0]).parent
    except (LocalEntryNotFoundError, OfflineModeIsEnabled):
        pass
    if constants.HF_HUB_OFFLINE:
        raise LoadError(f"{name!r} ({repo}) is not in the local Hugging Face cache, and HF_HUB_OFFLINE is set, "
                        f"so it cannot be downloaded. {_OFFLINE_ADVICE}")
    endpoint = constants.ENDPOINT
    unreachable = _unreachable(endpoint) or _silent(repo, endpoint)
    if unreachable:
        raise LoadError(f"{name!r} ({repo}) is not in the local Hugging Face cache and the hub cannot be reached "
                        f"({unreachable}). {_OFFLINE_ADVICE}")
    try:
        return Path([hf_hub_download(repo, f, endpoint=endpoint, etag_timeout=ANSWER_SECONDS)
                     for f in _FILES][0]).parent
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, HfHubHTTPError, OSError) as err:
        raise LoadError(f"Downloading {name!r} ({repo}) failed: {err}. Check the network, or use the bundled "
                        "offline model (gptviz.load() in Python, no --model on the command line)") from None


def _unreachable(endpoint: str) -> str | None:
    """Why ``endpoint`` (or the proxy that would carry the request) cannot be reached within
    ``REACH_SECONDS``, or None when it answers a TCP connection."""
    import socket
    import threading
    import urllib.parse
    import urllib.request

    url = urllib.parse.urlsplit(endpoint)
    proxy = urllib.request.getproxies().get(url.scheme)
    target = urllib.parse.urlsplit(proxy if proxy and "://" in proxy else f"http://{proxy}") if proxy else url
    host, port = target.hostname, target.port or (443 if target.scheme == "https" else 80)
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=REACH_SECONDS).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"{host}:{port}: {err.strerror or err}")

    probe = threading.Thread(target=connect, daemon=True)  # name resolution has no timeout of its own
    probe.start()
    probe.join(REACH_SECONDS + 0.5)
    return outcome[0] if outcome else f"{host}:{port} did not answer within {REACH_SECONDS:g} s"


def _silent(repo: str, endpoint: str) -> str | None:
    """Why the hub at ``endpoint``, which took the connection, cannot serve ``repo``: it sent no answer
    to one metadata request within ``ANSWER_SECONDS`` (a proxy or a server that hangs), or None when it
    answered anything, even an error (the download then reports that error itself)."""
    import threading

    from huggingface_hub import get_hf_file_metadata

    url = f"{endpoint.rstrip('/')}/{repo}/resolve/main/{_FILES[0]}"  # the hub's file address
    outcome: list[str | None] = []

    def ask() -> None:
        try:
            get_hf_file_metadata(url, timeout=ANSWER_SECONDS)
            outcome.append(None)
        except Exception as err:  # noqa: BLE001 - only a time-out means "no answer"
            timed_out = "timeout" in type(err).__name__.lower() or isinstance(err, TimeoutError)
            outcome.append(f"{endpoint} took the connection but sent no answer within {ANSWER_SECONDS:g} s"
                           if timed_out else None)

    probe = threading.Thread(target=ask, daemon=True)
    probe.start()
    probe.join(ANSWER_SECONDS + 2)
    return outcome[0] if outcome else f"{endpoint} took the connection but sent no answer within {ANSWER_SECONDS:g} s"


#: Whole-number settings of a GPT-2 config.json: required, and GPT-2 small's value for the messages.
_INT_FIELDS = {"vocab_size": (True, 50257), "n_embd": (True, 768), "n_layer": (True, 12), "n_head": (True, 12),
               "n_positions": (False, 1024), "n_ctx": (False, 1024), "n_inner": (False, None)}


def read_config(folder: Path) -> GPTConfig:
    """The :class:`GPTConfig` of a checkpoint folder's ``config.json``, refused (LoadError) unless it
    is a GPT-2 config that GPT-2's tokenizer can serve."""
    file = folder / "config.json"
    _check_file(file, "config.json and model.safetensors")
    try:
        raw = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LoadError(f"{file} is not valid JSON ({err}); the checkpoint is corrupt") from None
    except OSError as err:
        raise LoadError(f"{file} could not be read ({err.strerror or err}): check its permissions") from None
    _check_config(raw, file)
    try:
        return GPTConfig.from_hf(raw, name=folder.name)
    except ValueError as err:
        raise LoadError(f"{file}: {err}; fix config.json or save the checkpoint again") from None


def _check_file(file: Path, needs: str) -> bool:
    """Whether ``file`` is there, as a readable regular file; a LoadError for what stands in its place (a
    folder, a link that leads nowhere or to itself). Absent: False, except for config.json (an error)."""
    if file.is_symlink() and not file.exists():
        raise LoadError(f"{file} is a symbolic link that leads nowhere (its target is missing, or the link "
                        f"points back at itself): make it point to the real file, or copy the file there")
    if file.is_dir():
        raise LoadError(f"{file} is a folder, not a file: a checkpoint folder holds {needs} as files")
    if not file.exists():
        if file.name == "config.json":
            raise LoadError(f"{file.parent} has no config.json; a checkpoint folder needs {needs}")
        return False
    return True


#: The largest width, depth, context and head count gptviz builds: past GPT-3 175B's (12,288 wide, 96
#: blocks, 2,048 positions, 96 heads) with room to spare; a larger number is a typo that would allocate
#: terabytes before any weight is read.
_INT_LIMITS = {"n_embd": 65_536, "n_layer": 1_024, "n_head": 1_024, "n_positions": 1_048_576, "n_ctx": 1_048_576,
               "n_inner": 262_144}


def _check_config(raw, file: Path) -> None:
    """Types and values that ``GPTConfig.from_hf`` needs, each refused with what to write instead."""
    if not isinstance(raw, dict):
        raise LoadError(f"{file} holds a JSON {type(raw).__name__}, not an object of settings "
                        '({"model_type": "gpt2", "n_layer": 12, ...}): save the checkpoint again with '
                        "save_pretrained() or gptviz.hub.save_checkpoint()")
    for key, (required, example) in _INT_FIELDS.items():
        if key not in raw and not required or key == "n_inner" and raw.get(key) is None:
            continue
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            shown = repr(value) if key in raw else "nothing (the field is missing)"
            raise LoadError(f"{file}: {key} must be a whole number >= 1, got {shown}; fix config.json "
                            f"(GPT-2 small has \"{key}\": {example if example is not None else 'null'})")
        if key in _INT_LIMITS and value > _INT_LIMITS[key]:
            raise LoadError(f"{file}: {key} is {value:,}, larger than any GPT-2 or GPT-3 (gptviz builds at most "
                            f"{_INT_LIMITS[key]:,}); fix config.json (GPT-2 small has \"{key}\": {example})")
    if raw["vocab_size"] != Tokenizer.vocab_size:
        raise LoadError(f"{file}: vocab_size is {raw['vocab_size']:,}, but gptviz reads every model with GPT-2's "
                        f"tokenizer, whose ids run to {Tokenizer.vocab_size - 1:,}: only a checkpoint with "
                        f"\"vocab_size\": {Tokenizer.vocab_size} can be loaded")
    eps = raw.get("layer_norm_epsilon", 1e-5)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise LoadError(f"{file}: layer_norm_epsilon must be a small number > 0, got {eps!r}; GPT-2 uses 1e-05")


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint folder, never unpickling code."""
    st, pt = folder / "model.safetensors", folder / "pytorch_model.bin"
    needs = "config.json and model.safetensors"
    if _check_file(st, needs):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(st))
        except (SafetensorError, OSError, ValueError, RuntimeError) as err:
            raise LoadError(
                f"{st} could not be read ({err}): the file is truncated or corrupt. Delete it and "
                "download or save it again"
            ) from None
    if _check_file(pt, needs):
        import pickle

        try:
            state = torch.load(str(pt), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise LoadError(
                f"{pt} holds more than tensors ({str(err).splitlines()[0]}); gptviz loads only plain "
                "weights and never runs code from a checkpoint. Convert it to model.safetensors from a "
                "source you trust"
            ) from None
        except (RuntimeError, EOFError, OSError, ValueError) as err:
            raise LoadError(f"{pt} could not be read ({err}): the file is truncated or corrupt") from None
        if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in state.items()):
            raise LoadError(f"{pt} holds a {type(state).__name__}, not a dict of named tensors (a state dict): save "
                            "the weights with torch.save(model.state_dict(), ...) or as model.safetensors")
        return state
    raise LoadError(f"{folder} has no model.safetensors (or pytorch_model.bin)")


def load_checkpoint(folder: str | os.PathLike, name: str = "") -> GPT:
    """A :class:`GPT` from a folder in the hub's format, every tensor's shape checked."""
    folder = Path(folder)
    config = read_config(folder)
    if name:
        config = GPTConfig(**{**config.to_dict(), "name": name})
    with torch.device("meta"):  # the shapes config.json implies, without allocating them
        expected = GPT(config).state_dict()
    _check_header(folder, expected)
    state = read_state_dict(folder)
    loaded = {}
    for key, tensor in state.items():
        key = _key(key)
        if key.endswith(_IGNORED_SUFFIXES):
            continue
        if key == "lm_head.weight":
            continue  # tied to wte; checked below
        if key not in expected:
            raise LoadError(f"{folder}: unexpected tensor {key!r}; this is not a GPT-2 checkpoint")
        if key.endswith(CONV1D_WEIGHTS):
            tensor = tensor.T  # Conv1D stores (in, out); nn.Linear wants (out, in)
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise _shape_error(folder, key, tensor.shape, expected[key].shape)
        loaded[key] = tensor
    missing = [k for k in expected if k not in loaded]
    if missing:
        raise LoadError(f"{folder}: missing tensors {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if "lm_head.weight" in state and not torch.equal(state["lm_head.weight"], loaded["wte.weight"]):
        raise LoadError(f"{folder}: lm_head.weight differs from wte.weight; GPT-2 ties them and gptviz requires it")
    return GPT.from_state_dict(config, loaded).eval()


def _key(key: str) -> str:
    return key.removeprefix("transformer.")


def _shape_error(folder: Path, key: str, shape, expected) -> LoadError:
    return LoadError(f"{folder}: {key} has shape {list(shape)} but config.json implies {list(expected)}; the "
                     "weights do not match their config")


def _check_header(folder: Path, expected: dict[str, torch.Tensor]) -> None:
    """Compare the tensor shapes in ``model.safetensors``'s header with those config.json implies,
    before any memory is taken for the model (a config saying 16,384 positions beside 64-row weights
    used to allocate 688 MiB of masks before it was refused). Nothing to read for pytorch_model.bin,
    whose tensors are checked once loaded."""
    st = folder / "model.safetensors"
    if not (st.is_file() and st.stat().st_size >= 8):
        return
    try:
        with st.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size)) if 2 <= size <= 100 * 2**20 else None
    except (OSError, ValueError):
        header = None
    if not isinstance(header, dict):
        return  # read_state_dict reports the corrupt file
    for key, entry in header.items():
        key = _key(key)
        if key not in expected or not isinstance(entry, dict) or not isinstance(entry.get("shape"), list):
            continue
        shape = entry["shape"][::-1] if key.endswith(CONV1D_WEIGHTS) else entry["shape"]
        if tuple(shape) != tuple(expected[key].shape):
            raise _shape_error(folder, key, shape, expected[key].shape)


def save_checkpoint(model: GPT, folder: str | os.PathLike, dtype: torch.dtype = torch.float32) -> Path:
    """Write ``config.json`` + ``model.safetensors`` in the hub's format (Conv1D weights transposed,
    ``transformer.`` prefix), readable by ``transformers.GPT2LMHeadModel.from_pretrained``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for key, tensor in model.state_dict().items():
        if key.endswith(CONV1D_WEIGHTS):
            tensor = tensor.T
        tensors["transformer." + key] = tensor.detach().to("cpu", dtype).contiguous()
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(model.config.to_hf(), indent=2) + "\n")
    return folder
