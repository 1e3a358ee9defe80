"""Files on disk: bounded reads of .spdr files and atomic writes. Imports no torch.

Every output spdr writes goes through here, so one rule holds everywhere: the bytes go to a
temporary name in the target's folder and are renamed into place only when complete; an existing
path is replaced only with force; a failure (or Ctrl-C) leaves no partial file behind. The temporary
file is created with mode 0o666 and the process umask applies as for any new file, so nothing here
touches the umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from .errors import FormatError, InputFileError, InputNotFoundError, OutputExistsError, SpdrError

MAX_FILE_BYTES = 512 * 2**20  # the largest .spdr file a reader opens (docs/format.md, "Limits")


def read_file(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """Read a .spdr file, refusing one larger than `limit` (default MAX_FILE_BYTES) before reading it."""
    name = os.fspath(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        with open(name, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise FormatError(f"file is {size} bytes, larger than the {limit} limit")
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise InputNotFoundError(f"no such file: {name}") from None
    except IsADirectoryError:
        raise InputFileError(f"is a folder, not a file: {name}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise FormatError(f"file is larger than the {limit} byte limit")
    return data


def check_output(path: str | os.PathLike, force: bool) -> Path:
    """Refuse an output path that exists (without force), is a folder, or whose folder is missing or read-only."""
    p = Path(path)
    if os.path.lexists(p) and not force:
        raise OutputExistsError(f"{p} exists; pass --force to replace it")
    if p.is_dir():
        raise SpdrError(f"{p} is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise SpdrError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise SpdrError(f"output folder {parent} is not writable")
    return p


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary path beside `path`; on success it replaces `path`, on failure it is removed.

    For writers that need a file name (PyAV). The temporary file exists, empty, with the usual
    umask-derived mode, when the body starts.
    """
    target = Path(os.fspath(path))
    if not force and os.path.lexists(target):
        raise OutputExistsError(f"{target} exists; pass --force to replace it")
    tmp = _temp_name(target.absolute())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike, data: bytes, force: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, then os.replace."""
    with atomic_path(path, force) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a new temporary folder beside `path`; on success it replaces `path` (an existing one only with force)."""
    target = Path(os.fspath(path))
    if not force and os.path.lexists(target):
        raise OutputExistsError(f"{target} exists; pass --force to replace it")
    tmp = _temp_name(target.absolute())
    os.mkdir(tmp, 0o777)
    try:
        yield tmp
        if target.exists() and force:
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
