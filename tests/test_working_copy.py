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
    sync_at, lab_at = plan.index('tools/working_copy.py sync "$WORK"'), plan.index('--notebook-dir="$WORK"')
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


# ---- what a class really does to a working copy: nothing may run, nothing may be lost -------------
def test_make_variables_are_names_never_shell(tmp_path):
    """`$(NB)` and `$(WORK)` used to reach the recipe unquoted: NB='03; touch PWNED' ran touch."""
    work = tmp_path / "my work"  # a space, as on many laptops
    pwned = tmp_path / "PWNED"
    done = _make("reset", f"WORK={work}", f"NB=03; touch {pwned}")
    assert not pwned.exists()
    assert done.returncode != 0 and "no chapter is NB=03;:" in done.stderr, done.stderr
    done = _make("reset", f"WORK={work}", "NB=03 00")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name[:2] for p in work.glob("*.ipynb")) == ["00", "03"]


def _students_file(originals, work) -> Path:
    wc.sync(work, originals)
    mine = work / "03-attention.ipynb"
    mine.write_text("my answers")
    return mine


def test_work_that_is_a_file_is_refused_untouched(originals, tmp_path):
    work = tmp_path / "notes.txt"
    work.write_text("a file")
    for call in (lambda: wc.sync(work, originals), lambda: wc.reset(work, ["03"], originals)):
        with pytest.raises(wc.WorkingCopyError, match="is a file, not a folder: give another folder"):
            call()
    assert work.read_text() == "a file"


def test_a_file_named_backups_is_refused_and_the_notebook_kept(originals, tmp_path):
    work = tmp_path / "work"
    mine = _students_file(originals, work)
    (work / "backups").write_text("not a folder")
    with pytest.raises(wc.WorkingCopyError, match=r"backups is a file.*your .*03-attention.ipynb is unchanged"):
        wc.reset(work, ["03"], originals)
    assert mine.read_text() == "my answers" and not list(work.glob(".*partial"))


def test_a_read_only_copy_is_refused_and_the_notebook_kept(originals, tmp_path, monkeypatch):
    work = tmp_path / "work"
    mine = _students_file(originals, work)

    def read_only(src, dst, **kw):  # what a read-only folder answers (root would write through chmod)
        raise PermissionError(13, "Permission denied", str(dst))
    monkeypatch.setattr(wc.shutil, "copy2", read_only)
    with pytest.raises(wc.WorkingCopyError, match=r"Permission denied.*your .*03-attention.ipynb is unchanged"):
        wc.reset(work, ["03"], originals)
    assert mine.read_text() == "my answers"


def test_a_full_disk_mid_copy_loses_nothing(originals, tmp_path, monkeypatch):
    import errno
    work = tmp_path / "work"
    mine = _students_file(originals, work)
    real = shutil.copy2

    def half_then_full(src, dst, **kw):
        Path(dst).write_text('{"orig')  # half a notebook, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(wc.shutil, "copy2", half_then_full)
    with pytest.raises(wc.WorkingCopyError, match=r"No space left.*your .*03-attention.ipynb is unchanged"):
        wc.reset(work, ["03"], originals)
    assert mine.read_text() == "my answers" and not list(work.glob(".*partial")) and not (work / "backups").exists()
    mine.unlink()
    with pytest.raises(wc.WorkingCopyError, match=r"free some disk space"):
        wc.sync(work, originals)
    assert not mine.exists(), "half a notebook left behind would later pass for the student's own"
    monkeypatch.setattr(wc.shutil, "copy2", real)
    wc.sync(work, originals)
    assert mine.read_bytes() == (originals / mine.name).read_bytes()


def test_a_chapter_that_links_to_the_original_becomes_a_copy(originals, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    link = work / "03-attention.ipynb"
    link.symlink_to(originals / "03-attention.ipynb")
    [(target, saved)] = wc.reset(work, ["03"], originals)
    assert saved is None and not target.is_symlink()
    assert target.read_text() == '{"original": "03-attention"}'
    assert (originals / "03-attention.ipynb").read_text() == '{"original": "03-attention"}'
