"""No export loses a file: with the disk full in the middle of a write, the earlier file of that name
survives byte for byte and no temporary file is left behind, for every format and writer."""

from __future__ import annotations

import builtins
import errno
import io

import pytest

from gptviz import viz
from gptviz.errors import ExportError
from gptviz.export import export, export_heads

LIMIT = 4000  # bytes a write gets through before the disk is "full"


class _FullDisk(io.RawIOBase):
    """A file that accepts ``LIMIT`` bytes, then fails as a full disk does (ENOSPC)."""

    def __init__(self, real):
        self.real, self.written = real, 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.real.seekable()

    def seek(self, *args) -> int:
        return self.real.seek(*args)

    def tell(self) -> int:
        return self.real.tell()

    def write(self, data) -> int:
        room = LIMIT - self.written
        if len(data) > room:
            self.real.write(bytes(data[:room]) if not isinstance(data, str) else data[:room])
            self.real.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += len(data)
        return self.real.write(data)

    def close(self) -> None:
        self.real.close()
        super().close()

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def full_disk(monkeypatch, tmp_path):
    """Every file opened for writing under ``tmp_path`` fills the disk after LIMIT bytes."""
    real_open = builtins.open

    def opener(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if any(m in mode for m in "wxa") and str(file).startswith(str(tmp_path)):
            return _FullDisk(handle)
        return handle

    def fill():
        monkeypatch.setattr(builtins, "open", opener)
        monkeypatch.setattr(io, "open", opener)

    return fill


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace("The robot picked up the red ball because it was the only toy left.")


# Static plotly images are bytes from kaleido's browser, written by the same path as the others.
@pytest.mark.parametrize("kind, suffix", [("matplotlib", ".png"), ("matplotlib", ".svg"), ("matplotlib", ".pdf"),
                                          ("matplotlib", ".html"), ("plotly", ".html")])
def test_a_failed_export_keeps_the_old_file(trace, tmp_path, full_disk, kind, suffix):
    fig = (viz.head_heatmap(trace, 0, 0) if kind == "matplotlib"
           else viz.attention_heatmap_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens))
    path = export(fig, tmp_path / f"head{suffix}")
    before = path.read_bytes()
    assert len(before) > LIMIT  # a real write would be cut short
    full_disk()
    with pytest.raises(ExportError, match=r"No space left on device.*unchanged. Free some disk space"):
        export(viz.head_heatmap(trace, 1, 1) if kind == "matplotlib" else fig, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_export_heads_keeps_the_old_files(trace, tmp_path, full_disk):
    paths = export_heads(trace, tmp_path, layer=0)
    before = {p: p.read_bytes() for p in paths}
    full_disk()
    with pytest.raises(ExportError, match="No space left"):
        export_heads(trace, tmp_path, layer=0)
    assert {p: p.read_bytes() for p in paths} == before
    assert sorted(tmp_path.iterdir()) == sorted(paths)


def test_a_new_file_appears_whole_or_not_at_all(trace, tmp_path, full_disk):
    full_disk()
    with pytest.raises(ExportError, match="Free some disk space"):
        export(viz.head_heatmap(trace, 0, 0), tmp_path / "new.png")
    assert list(tmp_path.iterdir()) == []
