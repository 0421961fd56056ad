"""plot.save's PNG writer: the pixels savefig draws, in a file any decoder reads back
unchanged (RGB when opaque, RGBA when not), with the figure's dpi and metadata."""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from shutdown import plot
from shutdown.plot import style as S


def _figure(transparent: bool) -> Figure:
    fig = Figure(figsize=(2.0, 1.2), dpi=S.DPI)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 0.5], color="#D55E00", lw=1.5)
    ax.set_title("kz-03 Internet blocked nationwide")
    if transparent:
        fig.patch.set_alpha(0.0)
    return fig


def _drawn(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_png_is_the_drawn_pixels_as_rgb_when_opaque(tmp_path):
    fig = _figure(transparent=False)
    expected = _drawn(fig)
    path = plot.save(fig, tmp_path / "f", formats=("png",))["png"]
    with Image.open(path) as im:
        assert im.mode == "RGB"
        assert im.info["Software"] == "shutdown"
        assert round(im.info["dpi"][0]) == S.DPI
        got = np.asarray(im.convert("RGBA"))
    assert got.shape == expected.shape
    assert (got == expected).all()


def test_png_keeps_alpha_when_some_pixels_are_not_opaque(tmp_path):
    fig = _figure(transparent=True)
    expected = _drawn(fig)
    assert expected[..., 3].min() < 255
    path = plot.save(fig, tmp_path / "f", formats=("png",))["png"]
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        got = np.asarray(im)
    assert (got == expected).all()


def test_png_at_style_dpi_leaves_the_figure_dpi(tmp_path, monkeypatch):
    fig = _figure(transparent=False)
    before = fig.dpi
    monkeypatch.setattr(S, "DPI", 50)
    path = plot.save(fig, tmp_path / "f", formats=("png",))["png"]
    with Image.open(path) as im:
        assert im.size == (100, 60)          # 2.0 x 1.2 in at 50 dpi
    assert fig.dpi == before != 50
