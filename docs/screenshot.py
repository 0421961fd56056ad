"""Screenshot of the interactive overview in report.html, for the README.

    make demo && .venv/bin/python docs/screenshot.py [out/kz-2022-01-demo] [docs/interactive-overview.png]

Opens the report in headless Chromium (as tests/test_report_browser.py does), hovers
the 5 January shutdown so its tooltip (quote, verdict, evidence) shows, and saves the overview
figure -- SIMULATED banner, title and watermark included -- as a 256-colour PNG.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser import EVENT_ITEMS_JS, chromium_path, launch, wait_for_charts  # noqa: E402


def main(report_dir="out/kz-2022-01-demo", dest="docs/interactive-overview.png", event="kz-03-shutdown"):
    from PIL import Image
    from playwright.sync_api import sync_playwright
    exe = chromium_path()
    if exe is None:
        sys.exit("no Chromium installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = launch(pw, exe)
        page = browser.new_page(viewport={"width": 1100, "height": 1100}, device_scale_factor=1)
        page.goto((Path(report_dir).resolve() / "report.html").as_uri())
        wait_for_charts(page)
        fig = page.locator("#fig-overview")
        page.evaluate("y => window.scrollTo(0, y)", fig.evaluate("el => el.getBoundingClientRect().top + scrollY"))
        box = {i["id"]: i for i in page.evaluate(EVENT_ITEMS_JS, "overview")}[event]["box"]
        page.mouse.move(box[0] + box[2] / 2, box[1] + box[3] / 2)
        page.locator("#vg-tooltip-element").wait_for(state="visible")
        png = page.screenshot(clip=fig.bounding_box())     # with the tooltip, which lies outside it
        browser.close()
    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(256)
    img.save(dest, optimize=True)
    print(f"{dest}: {img.width}x{img.height}, {Path(dest).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(*sys.argv[1:])
