"""Output folders that never lose a user's files.

Every command that writes a folder (``sdsnn run --out``, ``sdsnn export``, ``sdsnn rtl
--work``) builds it in a hidden sibling, records what it wrote in a marker file
(:data:`MARKER`: the kind of folder and the sha256 of every file), then swaps it into
place with one atomic ``renameat2(RENAME_EXCHANGE)``. An interruption at any point
leaves the old folder or the new one complete at the target path.

An existing folder is replaced only when the marker proves this tool wrote every file
in it, unchanged, as the same kind of folder. Anything else is refused; with
``force`` the existing folder is moved aside to ``<name>.replaced-<time>``, so even
then no file the tool did not write is deleted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sdsnn_hw.fileio import atomic_write_text, sha256_file

MARKER = ".sdsnn-output.json"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputFolderError(ValueError):
    """The output folder cannot be written without risking files the tool did not write."""


def _files(folder: Path) -> dict[str, Path]:
    """Every file below ``folder`` by its POSIX path relative to ``folder``."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def foreign_files(folder: Path, kind: str) -> list[str]:
    """Files in ``folder`` that its marker does not vouch for (empty: the tool owns it all).

    A folder without a valid marker of ``kind`` owns nothing; links and other special
    entries are always foreign.
    """
    present = _files(folder)
    specials = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_symlink() or not (p.is_file() or p.is_dir())
    ]
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        owned = marker["files"] if marker.get("kind") == kind else {}
        owned = {str(k): str(v) for k, v in dict(owned).items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        owned = {}
    foreign = [
        name
        for name, path in present.items()
        if name != MARKER and (owned.get(name) is None or owned[name] != sha256_file(path))
    ]
    return sorted(set(foreign) | set(specials))


def _write_marker(folder: Path, kind: str) -> None:
    files = {name: sha256_file(path) for name, path in _files(folder).items() if name != MARKER}
    marker = {"tool": "sdsnn-hw", "kind": kind, "files": files}
    atomic_write_text(folder / MARKER, json.dumps(marker, indent=2, sort_keys=True) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot swap
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def check_output_folder(path: Path, kind: str, force: bool = False) -> None:
    """Refuse, before any work starts, a target that the command may not replace.

    Raises:
        OutputFolderError: naming the folder and the first foreign files.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{path}: exists and is not a folder")
    if path.is_dir() and not force:
        foreign = foreign_files(path, kind)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputFolderError(
                f"{path}: holds files sdsnn did not write as its {kind} output ({shown}); "
                "choose another folder, or pass --force to move it aside"
            )
    cwd = Path.cwd().resolve()
    target = path.resolve()
    if target == cwd or target in cwd.parents:
        raise OutputFolderError(f"{path}: is the working folder or holds it; choose another")


@contextmanager
def output_folder(
    path: Path, kind: str, force: bool = False, log: Callable[[str], None] = print
) -> Iterator[Path]:
    """Yield a fresh sibling folder to write into; on success it replaces ``path``.

    Args:
        path: the folder the user named.
        kind: what the command writes (``export``, ``run``, ``rtl``); a folder of one
            kind is never replaced by another.
        force: move a folder that holds foreign files aside instead of refusing.
        log: where the one-line notice of a moved-aside folder goes.

    Raises:
        OutputFolderError: if ``path`` may not be replaced (checked before and after).
    """
    path = Path(path)
    check_output_folder(path, kind, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        _write_marker(tmp, kind)
        _install(tmp, path, kind, force, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _install(tmp: Path, path: Path, kind: str, force: bool, log: Callable[[str], None]) -> None:
    if not path.exists():
        os.rename(tmp, path)
        return
    check_output_folder(path, kind, force)  # the folder may have changed while we worked
    if foreign_files(path, kind):  # only reachable with force
        aside = path.with_name(f"{path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
        os.rename(path, aside)
        os.rename(tmp, path)
        log(f"moved the previous {path} aside to {aside}")
        return
    if _exchange(tmp, path):
        return  # tmp now holds the old folder, owned by the tool: the caller removes it
    old = tmp.with_name(tmp.name + ".old")
    os.rename(path, old)
    os.rename(tmp, path)
    shutil.rmtree(old)


def check_files_replaceable(folder: Path, kind: str, names: list[str]) -> None:
    """Refuse, before writing them into ``folder``, any of ``names`` that exists and that
    the folder's marker of ``kind`` does not vouch for unchanged.

    Raises:
        OutputFolderError: naming the first such file.
    """
    folder = Path(folder)
    foreign = set(foreign_files(folder, kind))
    taken = [name for name in names if (folder / name).exists() and name in foreign]
    if taken:
        raise OutputFolderError(
            f"{folder / taken[0]}: exists and is not a file sdsnn wrote there (or it was "
            "edited since); move it away first"
        )


def add_files(folder: Path, kind: str, names: list[str]) -> bool:
    """Vouch for files written into a finished output folder of ``kind`` afterwards (a
    report), so that the command may still replace the folder later.

    Only a folder whose marker vouches for every other file is updated; returns whether
    the marker now lists ``names``.
    """
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("kind") != kind:
        return False
    if any(name not in names for name in foreign_files(folder, kind)):
        return False  # files the tool did not write: vouch for nothing
    marker["files"].update({name: sha256_file(folder / name) for name in names})
    atomic_write_text(folder / MARKER, json.dumps(marker, indent=2, sort_keys=True) + "\n")
    return True
