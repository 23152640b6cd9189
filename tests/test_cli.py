"""python -m gptviz: help, exports, and one-line errors (run in-process through main())."""

import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from gptviz.__main__ import main

TEXT = "A robot must obey the orders given it."


def test_help_lists_commands_and_options(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for command in ("attention", "tokens", "lens", "residual", "params", "trace-size"):
        assert command in out
    with pytest.raises(SystemExit) as done:
        main(["attention", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in ("--layer", "--head", "--all", "--out", "--model", "--format", "--dpi", "--width", "--lines"):
        assert option in out


def test_one_head_png_and_all_heads(odd_checkpoint, tmp_path):
    out = tmp_path / "head.png"
    args = ["attention", TEXT, "--model", str(odd_checkpoint)]
    assert main([*args, "--layer", "0", "--head", "1", "--out", str(out), "--width", "600", "--height", "500"]) == 0
    assert Image.open(out).size == (600, 500)
    folder = tmp_path / "all"
    assert main([*args, "--all", "--out", str(folder)]) == 0
    assert len(list(folder.glob("*.png"))) == 3 * 6
    assert main([*args, "--all", "--layer", "1", "--format", "svg", "--out", str(tmp_path / "svg")]) == 0
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == [f"layer1_head{h}.svg" for h in range(6)]


@pytest.mark.parametrize("command", ["tokens", "lens", "residual"])
def test_other_views_export(odd_checkpoint, tmp_path, command):
    out = tmp_path / f"{command}.svg"
    assert main([command, TEXT, "--model", str(odd_checkpoint), "--out", str(out)]) == 0
    assert ET.parse(out).getroot().tag.endswith("svg")


def test_params_and_trace_size_need_no_weights(tmp_path, capsys):
    assert main(["params", "--preset", "gpt2", "--preset", "gpt3-175b", "--out", str(tmp_path / "p.pdf")]) == 0
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    assert main(["trace-size", "--model", "gpt2", "--tokens", "1024"]) == 0
    assert "A full trace of 1024 tokens on gpt2 takes 2,008.3 MiB" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--layer", "9", "--head", "0", "--out", "x.png"], "layer 9 is out of range"),
    (["--layer", "0", "--head", "99", "--out", "x.png"], "head 99 is out of range"),
    (["--layer", "0", "--head", "0", "--out", "x.bmp"], "unknown format"),
    (["--head", "0", "--out", "x.png"], "--head needs --layer"),
])
def test_errors_are_one_line(odd_checkpoint, tmp_path, capsys, args, message):
    args = [str(tmp_path / a) if a in ("x.png", "x.bmp") else a for a in args]
    code = main(["attention", TEXT, "--model", str(odd_checkpoint), *args])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert err.startswith("gptviz: error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


def test_unknown_model_and_bad_token_count_are_one_line(capsys):
    assert main(["tokens", TEXT, "--model", "no-such-model", "--out", "t.png"]) == 1
    assert "Unknown model 'no-such-model'" in capsys.readouterr().err
    assert main(["trace-size", "--model", "gpt2", "--tokens", "5000"]) == 1
    assert "between 1 and the context of 1024" in capsys.readouterr().err
