"""Errors a user can cause and fix. The CLI prints them in one line and exits 2."""


class InputError(Exception):
    """Bad input from the user: a malformed file, an unknown name, an impossible value.

    The message names the file, the item (``where``, e.g. ``"event 'kz-05'"``) and
    the field, so the user can go straight to the line to fix.
    """

    def __init__(self, message: str, *, path=None, where: str | None = None,
                 field: str | None = None):
        self.path, self.where, self.field = path, where, field
        parts = [str(p) for p in (path, where) if p is not None]
        if field is not None:
            parts.append(f"field {field!r}")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
