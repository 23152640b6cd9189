"""A student's working copy of the notebooks (tools/working_copy.py, behind `make lab` and `make reset`):
copied once, never overwritten, reset with a backup, never a file lost."""

import importlib.util
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("working_copy", ROOT / "tools" / "working_copy.py")
wc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wc)


@pytest.fixture
def originals(tmp_path) -> Path:
    """Three small chapters standing in for notebooks/."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("00-welcome", "03-attention", "10-extra"):
        (folder / f"{name}.ipynb").write_text(f'{{"original": "{name}"}}')
    (folder / "sanitize.cfg").write_text("not a chapter")
    return folder


def test_sync_copies_each_chapter_once_and_never_overwrites(originals, tmp_path):
    work = tmp_path / "my-notebooks"
    assert [p.name for p in wc.sync(work, originals)] == ["00-welcome.ipynb", "03-attention.ipynb", "10-extra.ipynb"]
    mine = work / "03-attention.ipynb"
    mine.write_text("my answers")
    (originals / "03-attention.ipynb").write_text("a newer original")
    (originals / "11-new.ipynb").write_text("a chapter added later")
    assert [p.name for p in wc.sync(work, originals)] == ["11-new.ipynb"]
    assert mine.read_text() == "my answers"
    assert not (work / "sanitize.cfg").exists()


def test_reset_one_chapter_keeps_the_students_file_in_backups(originals, tmp_path):
    work = tmp_path / "my-notebooks"
    wc.sync(work, originals)
    (work / "03-attention.ipynb").write_text("my answers")
    [(target, saved)] = wc.reset(work, ["3"], originals)
    assert target.read_text() == (originals / "03-attention.ipynb").read_text()
    assert saved.parent == work / "backups" and saved.read_text() == "my answers"
    assert re.fullmatch(r"03-attention\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(-\d+)?\.ipynb", saved.name)
    assert (work / "00-welcome.ipynb").read_text() == (originals / "00-welcome.ipynb").read_text()


def test_reset_backs_up_only_what_differs_and_never_overwrites_a_backup(originals, tmp_path):
    work = tmp_path / "my-notebooks"
    wc.sync(work, originals)
    (work / "00-welcome.ipynb").write_text("first try")
    (work / "10-extra.ipynb").unlink()  # a chapter the student deleted comes back
    done = dict(wc.reset(work, [], originals))
    assert done[work / "03-attention.ipynb"] is None and done[work / "10-extra.ipynb"] is None
    assert done[work / "00-welcome.ipynb"].read_text() == "first try"
    now = datetime(2025, 1, 31, 14, 5, 9)
    taken = wc.backup_path(work, "00-welcome.ipynb", now)
    taken.write_text("a backup made this second")
    assert wc.backup_path(work, "00-welcome.ipynb", now) == taken.with_name("00-welcome.2025-01-31T14-05-09-2.ipynb")


def test_an_unknown_chapter_is_refused_with_the_list(originals, tmp_path, capsys):
    with pytest.raises(wc.WorkingCopyError, match=r"no chapter is NB=7: .*00-welcome, 03-attention, 10-extra"):
        wc.reset(tmp_path / "work", ["7"], originals)
    assert not (tmp_path / "work").exists()
    assert wc.main(["reset", str(tmp_path / "work"), "99"]) == 2
    assert "NB=99" in capsys.readouterr().err


def test_chapters_are_named_by_number_or_by_name(originals):
    names = [p.stem for p in wc.select(["0", "03", "10-extra", "03-attention.ipynb"], originals)]
    assert names == ["00-welcome", "03-attention", "10-extra", "03-attention"]


def _make(*args: str) -> subprocess.CompletedProcess:
    """``make`` in the repository without re-running the install step (the venv is there already)."""
    if not shutil.which("make"):
        pytest.fail("make is not installed: apt-get install make")
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/bin/.installed", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_make_lab_serves_the_working_copy_and_make_reset_restores_a_chapter(tmp_path):
    work = tmp_path / "class-copy"
    plan = _make("-n", "lab", f"WORK={work}").stdout
    sync_at, lab_at = plan.index(f"tools/working_copy.py sync {work}"), plan.index(f"--notebook-dir={work}")
    assert sync_at < lab_at, plan
    done = _make("reset", f"WORK={work}", "NB=03")
    assert done.returncode == 0, done.stderr
    [copied] = work.glob("03-*.ipynb")
    assert copied.read_bytes() == (ROOT / "notebooks" / copied.name).read_bytes()
    copied.write_text("my answers")
    assert _make("reset", f"WORK={work}", "NB=03").returncode == 0
    assert [p.read_text() for p in (work / "backups").iterdir()] == ["my answers"]
    refused = _make("reset", f"WORK={work}", "NB=42")
    assert refused.returncode != 0 and "no chapter is NB=42" in refused.stderr


def test_the_default_working_copy_is_ignored_by_git():
    default = re.search(r"^WORK\s*\?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"/{default}/" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_chapter_runs_from_a_working_copy_outside_the_repository(tmp_path):
    """The bundled model and gptviz are found from anywhere, and a chapter's relative paths (its
    exports) land inside the copy, not in notebooks/."""
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "elsewhere" / "my-notebooks"
    [(target, _)] = wc.reset(work, ["03"])
    nb = nbformat.read(target, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    assert list((work / "exports").glob("*.png")), "the chapter's export did not land in the working copy"
