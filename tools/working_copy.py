"""A student's own copy of the notebooks, so that running and saving a chapter never touches the
committed ones in ``notebooks/`` (which nbval checks).

    python tools/working_copy.py sync my-notebooks          # copy the chapters not there yet
    python tools/working_copy.py reset my-notebooks 03      # chapter 03 afresh; yours goes to a backup
    python tools/working_copy.py reset my-notebooks         # every chapter afresh, each one backed up

``make lab`` runs ``sync`` and opens JupyterLab on the copy; ``make reset NB=03`` runs ``reset``. A
chapter already in the copy is never overwritten by ``sync``; ``reset`` first moves the student's file
to ``backups/`` inside the copy (``03-attention.2025-01-31T14-05-09.ipynb``), unless it is
byte-for-byte the original. No file is ever lost.

The copy sits next to ``notebooks/`` (one folder down from the repository, as the originals are), so
relative paths in a chapter (``exports/``) land inside the copy. The bundled model and gptviz are found
through the installed package, wherever the notebook runs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORIGINALS = ROOT / "notebooks"
BACKUPS = "backups"


class WorkingCopyError(Exception):
    """A request this tool refuses; the message says what to do instead."""


def chapters(originals: Path = ORIGINALS) -> list[Path]:
    """The committed chapters ``NN-*.ipynb``, in reading order."""
    found = sorted(originals.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise WorkingCopyError(f"no chapters (NN-name.ipynb) in {originals}")
    return found


def sync(work: Path, originals: Path = ORIGINALS) -> list[Path]:
    """Copy into ``work`` every chapter it does not have yet; return the files copied. Existing files
    (the student's) are left exactly as they are."""
    _make_folder(work)
    copied = []
    for original in chapters(originals):
        target = work / original.name
        if not (target.exists() or target.is_symlink()):
            _copy_whole(original, target)
            copied.append(target)
    return copied


def _make_folder(work: Path) -> None:
    """``work`` as a folder, or a WorkingCopyError that says what is in the way."""
    if work.exists() and not work.is_dir():
        raise WorkingCopyError(f"WORK={work} is a file, not a folder: give another folder, e.g. "
                               f"WORK=my-notebooks (the file was not touched)")
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WorkingCopyError(f"cannot make the folder WORK={work} ({err.strerror}): give a folder you can "
                               "write to, e.g. WORK=~/gptviz-work") from None


def _copy_whole(original: Path, target: Path) -> None:
    """Copy ``original`` to ``target`` all or nothing: into a hidden temporary file next to it, then
    renamed into place, so a full disk or a refused write never leaves half a notebook behind (which
    a later sync would take for the student's own)."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        shutil.copy2(original, partial)
        partial.replace(target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise WorkingCopyError(f"could not write {target} ({err.strerror}): free some disk space or make "
                               f"{target.parent} writable, then run it again") from None


def select(names: list[str], originals: Path = ORIGINALS) -> list[Path]:
    """The chapters given by number (``03`` or ``3``) or by name (``03-attention``, with or without
    ``.ipynb``); all of them when ``names`` is empty."""
    every = chapters(originals)
    if not names:
        return every
    chosen = []
    for name in names:
        key = name.removesuffix(".ipynb")
        match = [c for c in every if (c.stem.startswith(key.zfill(2) + "-") if key.isdigit() else c.stem == key)]
        if not match:
            listed = ", ".join(c.stem for c in every)
            raise WorkingCopyError(f"no chapter is NB={name}: give its number, e.g. NB=03 (chapters: {listed})")
        chosen.append(match[0])
    return chosen


def backup_path(work: Path, name: str, now: datetime | None = None) -> Path:
    """A file name in ``work/backups/`` that does not exist yet, stamped with the time."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")
    stem, suffix = Path(name).stem, Path(name).suffix
    folder = work / BACKUPS
    candidate, n = folder / f"{stem}.{stamp}{suffix}", 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}.{stamp}-{n}{suffix}"
    return candidate


def reset(work: Path, prefixes: list[str], originals: Path = ORIGINALS) -> list[tuple[Path, Path | None]]:
    """Put the original of each chosen chapter into ``work``. A student's file that differs from the
    original is first moved to ``work/backups/``. Returns ``(chapter, backup or None)`` pairs.

    Nothing is lost on any failure: the original is copied in full next to the chapter first, and
    only then is the student's file moved (a rename) to the backups and the copy renamed into place.
    A chapter that is a symbolic link (to the original, say) is replaced by a real copy; the file it
    pointed to is left alone. Each error says where the student's notebook is."""
    chosen = select(prefixes, originals)
    _make_folder(work)
    done = []
    for original in chosen:
        target, saved = work / original.name, None
        partial = target.with_name(f".{target.name}.partial")
        try:
            shutil.copy2(original, partial)
        except OSError as err:
            partial.unlink(missing_ok=True)
            kept = f"your {target} is unchanged" if target.exists() else f"{target} was not there"
            raise WorkingCopyError(f"could not copy the original into {work} ({err.strerror}): {kept}. "
                                   f"Free some disk space or make {work} writable, then run it again") from None
        try:
            if target.is_symlink():
                target.unlink()  # a link is not the student's work; what it points to stays
            elif target.exists() and not filecmp.cmp(target, original, shallow=False):
                saved = backup_path(work, original.name)
                if saved.parent.exists() and not saved.parent.is_dir():
                    raise WorkingCopyError(f"{saved.parent} is a file, so your notebook cannot be backed up "
                                           f"there: rename that file, then run it again (your {target} is "
                                           "unchanged)")
                saved.parent.mkdir(exist_ok=True)
                target.rename(saved)
            partial.replace(target)
        except OSError as err:
            partial.unlink(missing_ok=True)
            where = f"yours is safe in {saved}" if saved is not None and saved.exists() else f"your {target} is unchanged"
            raise WorkingCopyError(f"could not reset {target} ({err.strerror}): {where}. Make {work} writable, "
                                   "then run it again") from None
        except WorkingCopyError:
            partial.unlink(missing_ok=True)
            raise
        done.append((target, saved))
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="copy the chapters the working copy does not have").add_argument("work", type=Path)
    p = sub.add_parser("reset", help="the original of each chapter given (all when none); yours is backed up")
    p.add_argument("work", type=Path)
    p.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 03")
    args = ap.parse_args(argv)
    try:
        if args.command == "sync":
            copied = sync(args.work)
            kept = len(chapters()) - len(copied)
            print(f"{args.work}/: {len(copied)} chapters copied from notebooks/, {kept} of yours kept as they are "
                  f"(`make reset NB=03` takes chapter 03 afresh)")
        else:
            for target, saved in reset(args.work, args.chapters):
                print(f"{target}: the original from notebooks/" + (f"; yours is now {saved}" if saved else ""))
    except WorkingCopyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
