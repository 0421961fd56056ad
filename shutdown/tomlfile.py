"""Read a user's file, turning every way it can fail into an InputError naming the file.

Only regular files are read, and at most ``MAX_BYTES``: a FIFO would block forever,
``/dev/zero`` would fill the memory, a symlink loop raises -- each is one line instead.
"""
import os
import stat
import tomllib
from pathlib import Path

from shutdown.errors import InputError

MAX_BYTES = 8 * 1024 * 1024      # case, timeline and scenario files are a few kB


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    try:
        # O_NONBLOCK: opening a FIFO for reading does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=path) from None
    except OSError as exc:        # symlink loop, permission denied, ...
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory, not a file", path=path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a device, FIFO or socket); give a file", path=path)
        if st.st_size > limit:
            raise InputError(f"too large ({st.st_size} bytes; at most {limit})", path=path)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError(f"too large (more than {limit} bytes)", path=path)
    return data


def read_toml(path: Path) -> dict:
    data = read_regular(Path(path))
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries line and column ("... (at line 3, column 7)").
        raise InputError(f"TOML syntax error: {exc}", path=path) from None
