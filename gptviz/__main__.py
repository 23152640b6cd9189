"""The ``gptviz`` command: draw a view of a text and save it, without opening Python.

    python -m gptviz attention "A robot must obey the orders given it." --layer 0 --head 1 --out head.png
    python -m gptviz attention "A robot must obey the orders given it." --all --out heads/
    python -m gptviz attention "A robot must obey the orders given it." --all --out heads.html
    python -m gptviz tokens "Hello 😀 world" --out tokens.svg
    python -m gptviz lens "The cat sat on the" --out lens.pdf
    python -m gptviz params --out sizes.png
    python -m gptviz trace-size --model gpt2 --tokens 1024

Every failure prints one line on stderr and no traceback: an error in the input (a layer out of range,
an unknown format, a model that cannot be loaded, a file that cannot be written) exits with status 1,
a malformed command line with status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .errors import GptvizError

EPILOG = ("The output format follows the suffix of --out: .png, .svg, .pdf or .html. A text that starts "
          "with '-' goes last, after --: gptviz tokens --out t.png -- '-5 degrees'.")
#: The size flags' ranges: beyond them matplotlib fails or allocates gigabytes for one picture.
DPI_RANGE, PIXEL_RANGE = (10, 1200), (50, 20_000)
#: What each view reads from the trace: recording only that keeps a long text within the memory budget.
VIEW_NAMES = {
    "attention": ["blocks.*.attn.pattern"],
    "tokens": ["embed.token"],
    "lens": ["embed.sum", "blocks.*.resid_post"],
    "residual": ["embed.sum", "blocks.*.attn.out", "blocks.*.mlp.out"],
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a malformed command line reported on one line (usage stays in --help)."""

    def error(self, message: str):
        if any(hint in message for hint in ("arguments are required: text", "unrecognized arguments: -",
                                            "ignored explicit argument")):
            message += "; a text that starts with '-' goes last, after --: ... -- '-5 degrees'"
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind: type, example: str, bounds: tuple[float, float] | None = None):
    """An argparse type: a finite number > 0 of ``kind`` (int or float), within ``bounds`` if given."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number; "
                                             f"try {example}") from None
        if not (0 < value < math.inf):
            raise argparse.ArgumentTypeError(f"{text} must be a number > 0; try {example}")
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            raise argparse.ArgumentTypeError(f"{text} is outside {bounds[0]:,} to {bounds[1]:,}; try {example}")
        return value

    return parse


def _model_name(text: str) -> str:
    """--model: a name or a folder; an empty one would read the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--model is empty: give a name such as gpt2 or a checkpoint folder, "
                                         "or leave --model out for the bundled model")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gptviz", description="Draw what GPT-2 computes on a text, and save it.",
                     epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def view_command(name: str, help: str, text: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=EPILOG)
        if text:
            p.add_argument("text", help="the text to run through the model")
            p.add_argument("--model", type=_model_name, help="a model name or checkpoint folder (default: gptviz.load()'s "
                                           "choice: $GPTVIZ_MODEL or the bundled model)")
            p.add_argument("--allow-special", action="store_true",
                           help="read the literal text <|endoftext|> as the end-of-text token (id 50256)")
        p.add_argument("--out", required=True, type=Path,
                       help="file to write (with --all: a folder, or a .html page of every head)")
        p.add_argument("--dpi", type=_positive(float, "--dpi 100", DPI_RANGE),
                       help=f"resolution of PNG output, {DPI_RANGE[0]} to {DPI_RANGE[1]:,} (default 100)")
        p.add_argument("--width", type=_positive(int, "--width 800", PIXEL_RANGE),
                       help=f"width in pixels, {PIXEL_RANGE[0]} to {PIXEL_RANGE[1]:,}")
        p.add_argument("--height", type=_positive(int, "--height 600", PIXEL_RANGE),
                       help=f"height in pixels, {PIXEL_RANGE[0]} to {PIXEL_RANGE[1]:,}")
        return p

    att = view_command("attention", "Attention heatmaps: one head (--layer, --head), a layer's heads "
                                    "(--layer), every head (neither), one file per head (--all --out "
                                    "FOLDER), or one interactive page of every head (--all --out FILE.html).")
    att.add_argument("--layer", type=int, help="layer index (0-based; -1 is the last)")
    att.add_argument("--head", type=int, help="head index (0-based; needs --layer)")
    att.add_argument("--all", action="store_true", help="every head (every layer, or only --layer): one "
                                                        "heatmap per head into the folder --out, or one "
                                                        "interactive page when --out ends in .html")
    att.add_argument("--format", choices=["png", "svg", "pdf", "html"],
                     help="file format of each head with --all and a folder (default png)")
    att.add_argument("--lines", action="store_true", help="draw one head as lines between tokens instead")
    view_command("tokens", "The text cut into tokens, with their ids.")
    view_command("lens", "The logit lens: the top next-token guess after each layer.")
    view_command("residual", "The norm of what each layer adds to the residual stream.")
    params = view_command("params", "Where the parameters are, from GPT-2 small to GPT-3 175B.", text=False)
    params.add_argument("--preset", action="append", help="a preset to include (repeatable; default all)")

    size = sub.add_parser("trace-size", help="How much memory a full trace takes.",
                          description="How much memory a full trace (every activation, float32) takes.")
    size.add_argument("--model", default="gpt2", type=_model_name, help="a preset name (gpt2, gpt3-175b, ...), a model "
                                                      "name or a checkpoint folder (default gpt2)")
    size.add_argument("--tokens", type=_positive(int, "--tokens 1024"),
                      help="number of tokens (default: the model's context)")
    return parser


def _check_attention_flags(args) -> None:
    """Flags that cannot go together are refused, never silently ignored."""
    if args.all:
        for flag, given in (("--head", args.head is not None), ("--lines", args.lines)):
            if given:
                raise GptvizError(f"{flag} draws one head, --all every head: drop one of them")
    elif args.format:
        raise GptvizError(f"--format sets the file type of each head with --all; without --all the type "
                          f"follows --out's suffix ({args.out.name}): drop --format")


def _attention(args, model, trace):
    from .export import export_heads, is_heads_page
    from .viz.attention import attention_overview, head_grid, head_heatmap
    from .viz.lines import head_lines

    if args.all:
        page = is_heads_page(args.out)
        if page and args.format:
            raise GptvizError(f"--format sets the file type of a folder of heads, but --out {args.out} "
                              "names one page of every head: drop --format, or give a folder")
        paths = export_heads(trace, args.out, layer=args.layer, fmt=args.format or "png", dpi=args.dpi or 100)
        if page:
            return f"wrote {paths[0]} ({paths[0].stat().st_size / 2**20:.2f} MiB)"
        return f"wrote {len(paths)} files to {args.out}"
    if args.head is not None and args.layer is None:
        raise GptvizError("--head needs --layer: say which layer the head is in")
    if args.lines:
        if args.head is None:
            raise GptvizError("--lines draws one head: give --layer and --head")
        return head_lines(trace, args.layer, args.head)
    if args.head is not None:
        return head_heatmap(trace, args.layer, args.head)
    return head_grid(trace, args.layer) if args.layer is not None else attention_overview(trace)


def _view(args):
    """The figure the command asks for, or a message when the command wrote its files itself."""
    from .viz.scale import param_breakdown

    if args.command == "params":
        return param_breakdown(args.preset)
    from .hub import load
    from .inputs import CLI, read_input
    from .trace import check_budget

    model = load(args.model, device="cpu")
    ids = read_input(model, args.text, allow_special=args.allow_special, via=CLI).ids
    names = VIEW_NAMES[args.command]
    check_budget(model.config, len(ids), names, via=CLI)
    trace = model.trace(ids, names=names)
    if args.command == "attention":
        return _attention(args, model, trace)
    if args.command == "tokens":
        from .viz.tokens import token_strip

        return token_strip(trace, model.tokenizer)
    if args.command == "lens":
        from .viz.lens import logit_lens_view

        return logit_lens_view(model, trace)
    from .viz.residual import residual_norms

    return residual_norms(trace)


def _trace_size(args) -> str:
    from .config import PRESETS
    from .hub import load, read_config
    from .trace import trace_nbytes

    if args.model in PRESETS:
        config = PRESETS[args.model]
    elif Path(args.model).is_dir():
        config = read_config(Path(args.model))
    else:
        config = load(args.model, device="cpu").config
    n = args.tokens if args.tokens is not None else config.n_ctx
    if not 1 <= n <= config.n_ctx:
        raise GptvizError(f"--tokens must be between 1 and the context of {config.n_ctx}, got {n}")
    full = trace_nbytes(config, n)
    patterns = trace_nbytes(config, n, ["blocks.*.attn.pattern"])
    return (f"A full trace of {n} tokens on {config.name or args.model} takes {full / 2**20:,.1f} MiB "
            f"(attention patterns alone: {patterns / 2**20:,.1f} MiB)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 error, 2 a malformed command line)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (GptvizError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
    except OSError as err:  # a file or folder that cannot be read or written
        where = f" {err.filename}" if err.filename else ""
        message = f"cannot use{where}: {err.strerror or err}; check the path and its permissions"
    except MemoryError:
        message = "out of memory: use a shorter text or a smaller --model"
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug: still one line, with the way to the traceback
        if os.environ.get("GPTVIZ_DEBUG"):
            raise
        message = (f"unexpected {type(err).__name__}: {err} (a bug in gptviz: run again with GPTVIZ_DEBUG=1 "
                   "for the traceback and report it)")
    print(f"gptviz: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 1


def _run(args) -> int:
    """The command's work; raises on any failure (main() turns it into one line)."""
    if args.command == "trace-size":
        print(_trace_size(args))
        return 0
    from .export import check_format, export, is_heads_page

    # before the model is loaded: fail fast
    if args.command == "attention":
        _check_attention_flags(args)
    is_heads_page(args.out) if getattr(args, "all", False) else check_format(args.out)
    view = _view(args)
    if isinstance(view, str):
        print(view)
    else:
        print(f"wrote {export(view, args.out, dpi=args.dpi, width=args.width, height=args.height)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
