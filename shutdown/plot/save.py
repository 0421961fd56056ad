"""Writing a figure's files: PNG always (report.html embeds it), SVG and PDF when asked,
with fixed metadata so the files are a pure function of the figure (stable hashes)."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from shutdown.errors import InputError
from shutdown.plot import style as S
from shutdown.plot.catalogue import fewer_collections

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KNOWN_FORMATS = ("png", "svg", "pdf")


def check_formats(formats) -> tuple[str, ...]:
    """Validated figure formats, in FORMATS order; PNG always (the HTML report embeds it)."""
    asked = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    unknown = [f for f in asked if f and f not in KNOWN_FORMATS]
    if unknown:
        raise InputError(f"unknown figure format {unknown[0]!r} (known: {', '.join(KNOWN_FORMATS)})")
    return tuple(f for f in KNOWN_FORMATS if f in asked or f == "png")


def save(fig: Figure, base, formats=None) -> dict:
    """Write ``base``.png (and .svg/.pdf if asked; all of style.FORMATS by default);
    return {format: path}."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    out = {}
    meta = {"png": {"Software": "shutdown"}, "svg": {"Date": None, "Creator": "shutdown"},
            "pdf": {"CreationDate": None, "Creator": "shutdown", "Producer": "shutdown"}}
    with matplotlib.rc_context({"svg.hashsalt": "shutdown"}), fewer_collections():
        for fmt in (S.FORMATS if formats is None else formats):
            p = base.with_suffix(f".{fmt}")
            if fmt == "png":
                write_png(fig, p, meta["png"])
            else:
                fig.savefig(p, format=fmt, dpi=S.DPI, metadata=meta[fmt])
            out[fmt] = p
    return out


def write_png(fig: Figure, path: Path, metadata: dict) -> None:
    """The figure as PNG at style.DPI: the pixels savefig writes, encoded here (PIL's PNG
    encoder spent two thirds of its time choosing a filter per row; without a filter,
    zlib level 3, the file is smaller still: white space compresses well). RGB when
    every pixel is opaque (the page is white), else RGBA."""
    import numpy as np
    dpi = fig.dpi
    if dpi != S.DPI:
        fig.dpi = S.DPI         # as savefig(dpi=...) does, for this drawing only
    try:
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        pixels = rgba[..., :3] if (rgba[..., 3] == 255).all() else rgba
        h, w, n = pixels.shape
        rows = np.empty((h, 1 + w * n), dtype=np.uint8)
        rows[:, 0] = 0                                  # filter type None, every row
        rows[:, 1:] = pixels.reshape(h, w * n)
    finally:
        if dpi != S.DPI:
            fig.dpi = dpi
    per_metre = int(S.DPI / 0.0254 + 0.5)
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if n == 3 else 6, 0, 0, 0)),
              (b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
              *((b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in metadata.items() if v is not None),
              (b"IDAT", zlib.compress(rows.data, 3)),
              (b"IEND", b"")]
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        for kind, data in chunks:
            f.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))
