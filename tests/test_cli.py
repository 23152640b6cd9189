"""python -m gptviz: help, exports, and one-line errors."""

import pytest
from PIL import Image

from gptviz.__main__ import main

TEXT = "A robot must obey the orders given it."


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as done:
        main(["attention", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in ("--layer", "--head", "--all", "--out", "--model", "--format"):
        assert option in out


def test_one_head_png_and_all_heads(odd_checkpoint, tmp_path):
    out = tmp_path / "head.png"
    assert main(["attention", TEXT, "--model", str(odd_checkpoint), "--layer", "0", "--head", "1", "--out", str(out)]) == 0
    assert Image.open(out).format == "PNG"
    folder = tmp_path / "all"
    assert main(["attention", TEXT, "--model", str(odd_checkpoint), "--all", "--out", str(folder)]) == 0
    assert len(list(folder.glob("*.png"))) == 3 * 6


@pytest.mark.parametrize("args, message", [
    (["--layer", "9", "--head", "0", "--out", "x.png"], "layer"),
    (["--layer", "0", "--head", "99", "--out", "x.png"], "head"),
    (["--layer", "0", "--head", "0", "--out", "x.bmp"], "format"),
])
def test_errors_are_one_line(odd_checkpoint, tmp_path, capsys, args, message):
    args = [a if a not in ("x.png", "x.bmp") else str(tmp_path / a) for a in args]
    code = main(["attention", TEXT, "--model", str(odd_checkpoint), *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err.lower() and "Traceback" not in err
