"""Key files written durably with exact permissions: shared by the ledger and token keyrings."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_file(path: str | os.PathLike[str], data: bytes, mode: int, *, overwrite: bool) -> None:
    """Write ``data`` with exactly ``mode`` (whatever the umask), fsynced; never leaves a partly
    written file at ``path``. Without ``overwrite`` an existing file is an error, never replaced."""
    target = os.fspath(path)
    if overwrite:
        directory = os.path.dirname(os.path.abspath(target))
        fd, written = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    else:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        written = target
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(written, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(written)
        raise
