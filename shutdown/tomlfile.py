"""Read a TOML file, turning every way it can fail into an InputError naming the file."""
import tomllib
from pathlib import Path

from shutdown.errors import InputError


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries line and column ("... (at line 3, column 7)").
        raise InputError(f"TOML syntax error: {exc}", path=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path) from None
