"""Reading a small user file without hanging or exhausting memory.

A path on a command line may name anything: a FIFO (opening it blocks until a
writer comes), `/dev/zero` (reading never ends), a directory, a file under
`/proc` (its size says 0 but reading yields data), or a huge file. `read_text`
looks with `os.stat` before opening, refuses all but regular files, opens
without blocking, and reads at most `limit + 1` bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["DEFAULT_LIMIT", "FileRefused", "read_text"]

#: Largest search-space or genome file read (bytes).
DEFAULT_LIMIT = 1_000_000


class FileRefused(ValueError):
    """A file cannot be read as a small text file; the message is one line."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_text(path, limit: int = DEFAULT_LIMIT, what: str = "file") -> str:
    """Returns the UTF-8 text of the regular file `path`, at most `limit` bytes long.

    Args:
        path: The file.
        limit: Largest size accepted, in bytes.
        what: What the file should be, for messages (e.g. "search-space YAML file").

    Returns:
        The text.

    Raises:
        FileRefused: no such file, not a regular file, under `/proc` or
            `/sys`, larger than `limit`, unreadable, or not UTF-8. The message
            names the path and what was expected.

    Example:
        >>> try:
        ...     read_text("/dev/zero")
        ... except FileRefused as err:
        ...     print(err)
        /dev/zero: is a character device; expected a file
    """
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise FileRefused(f"{name}: no such file (expected a {what})") from None
    except (OSError, ValueError) as err:
        raise FileRefused(f"{name}: cannot read: {_reason(err)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"{name}: is {_kind(info.st_mode)}; expected a {what}")
    real = Path(name).resolve()
    if real.parts[1:2] in (("proc",), ("sys",)):
        raise FileRefused(f"{name}: is a kernel pseudo-file ({real}); expected a {what}")
    if info.st_size > limit:
        raise FileRefused(f"{name}: is {info.st_size:,} bytes; expected a {what} of at most "
                          f"{limit:,} bytes")
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise FileRefused(f"{name}: cannot read: {_reason(err)}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the stat above
            raise FileRefused(f"{name}: is not a regular file; expected a {what}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise FileRefused(f"{name}: cannot read: {_reason(err)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileRefused(f"{name}: is larger than {limit:,} bytes; expected a {what} of at "
                          f"most {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileRefused(f"{name}: not UTF-8 text (byte {err.start}); expected a {what}") \
            from None


def _reason(err: Exception) -> str:
    return getattr(err, "strerror", None) or str(err) or type(err).__name__
