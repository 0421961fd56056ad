"""Whether a change kept every figure's look: the demo cases redrawn and compared, file by
file, with a baseline drawn by other code (issue 22: "keep every figure's look").

    python benchmarks/same_look.py make BASE    # draw the baseline (with the code to compare against)
    python benchmarks/same_look.py cmp BASE NEW # draw with this code into NEW, compare with BASE

Each case of ``CASES`` (and kz-2022-01 in Kazakh) is drawn with ``report --demo --redraw``
(PNG). Compared: PNG pixels (decoded: a file written another way with the same pixels is
the same look), sidecar and manifest JSON (without hashes, render keys, dates and the
paths of the case, timeline and cache, which depend on where each was drawn), CSVs,
``vl.json`` and ``report.md`` byte for byte (paths mapped the same way). ``report.html``
embeds the PNGs and the charts, compared through them. Exit 1 when anything differs.
The demo cache is ``$SHUTDOWN_CACHE`` (default: a fresh one under BASE or NEW).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

CASES = ["kz-2022-01", "sim-kz-shifted", "sim-regional-cut", "sim-short-national-cut", "sim-throttling"]
RUNS = CASES + ["kz-2022-01@kk"]           # case@language
VARYING = {"render_key", "generated_utc", "code", "sha256", "case_file", "timeline_file", "cache_root"}
WHERE = "where.json"                       # the paths a drawing depends on, for the comparison


def draw(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    cache = Path(os.environ.get("SHUTDOWN_CACHE") or root / ".cache")
    env = {**os.environ, "SHUTDOWN_CACHE": str(cache)}
    shutdown = str(Path(sys.executable).parent / "shutdown")
    for run in RUNS:
        case, _, lang = run.partition("@")
        subprocess.run([shutdown, "report", case, "--demo", "--redraw", "--quiet", "--out", str(root / run),
                        *(["--lang", lang] if lang else [])], check=True, env=env, stdout=subprocess.DEVNULL)
    from shutdown.paths import data_dir
    (root / WHERE).write_text(json.dumps({"cache": str(cache), "data": str(data_dir())}), encoding="utf-8")


def _without_varying(d):
    if isinstance(d, dict):
        return {k: _without_varying(v) for k, v in d.items() if k not in VARYING}
    if isinstance(d, list):
        return [_without_varying(x) for x in d]
    return d


def _mapped(text: str, base: dict, new: dict) -> str:
    for k in ("cache", "data"):
        text = text.replace(base[k], new[k])
    return text


def compare(base: Path, new: Path) -> list[str]:
    """What differs, one line per file."""
    bw, nw = (json.loads((d / WHERE).read_text(encoding="utf-8")) for d in (base, new))
    out = []
    for f in sorted(p for p in base.rglob("*") if p.is_file() and p.name != WHERE and ".cache" not in p.parts):
        rel = f.relative_to(base)
        g = new / rel
        if not g.exists():
            out.append(f"missing: {rel}")
        elif f.suffix == ".png":
            a, b = (np.asarray(Image.open(x).convert("RGBA")) for x in (f, g))
            if a.shape != b.shape:
                out.append(f"size: {rel} {a.shape[:2]} -> {b.shape[:2]}")
            elif (a != b).any():
                d = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
                out.append(f"pixels: {rel}: {(d > 0).sum()} differ, at most by {d.max()}")
        elif f.suffix == ".json" and not f.name.endswith(".vl.json"):
            if _without_varying(json.loads(f.read_text(encoding="utf-8"))) != \
                    _without_varying(json.loads(g.read_text(encoding="utf-8"))):
                out.append(f"json: {rel}")
        elif f.name == "report.html":
            continue
        elif _mapped(f.read_text(encoding="utf-8"), bw, nw) != g.read_text(encoding="utf-8"):
            out.append(f"bytes: {rel}")
    return out


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("make", "cmp") or (sys.argv[1] == "cmp") != (len(sys.argv) == 4):
        sys.exit(__doc__.split("\n\n")[1])
    if sys.argv[1] == "make":
        draw(Path(sys.argv[2]))
        return
    base, new = Path(sys.argv[2]), Path(sys.argv[3])
    draw(new)
    diff = compare(base, new)
    print("\n".join(diff) if diff else f"same look: {len(RUNS)} reports, every file")
    sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
