"""``report --lang``: the report and its figures in Kazakh and Russian from gettext
catalogues (shutdown/locale), dates from CLDR (Babel), fonts with every Kazakh letter,
and ``check`` passing on every language; English untouched."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shutdown import check, i18n, plot, report
from shutdown.cli import app
import test_plot_fixtures as F

REPO = Path(__file__).resolve().parents[1]
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return F.shared_report(tmp_path_factory, REPO)


@pytest.fixture(scope="module")
def reports(shared):
    """The shared report's data written in Kazakh and in Russian beside the English one."""
    root, case, data = shared
    dpi, fmts, plot.style.DPI, plot.style.FORMATS = plot.style.DPI, plot.style.FORMATS, 60, ("png", "svg")
    try:
        for lang in ("kk", "ru"):
            report.write(report.replace(data, lang=lang), root / f"out-{lang}")
    finally:
        plot.style.DPI, plot.style.FORMATS = dpi, fmts
    return {"en": root / "out", "kk": root / "out-kk", "ru": root / "out-ru"}


def _catalogue_ids():
    from babel.messages.pofile import read_po
    with open(i18n.LOCALE_DIR / "shutdown.pot", "rb") as fh:
        return [m.id for m in read_po(fh) if m.id]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_string_of_the_template_is_translated_with_its_placeholders(lang):
    ids = _catalogue_ids()
    cat = i18n.catalogue(lang)
    assert len(ids) > 100 and not [m for m in ids if m not in cat]
    for m in ids:
        assert sorted(PLACEHOLDER.findall(cat[m])) == sorted(PLACEHOLDER.findall(m)), (lang, m)
    with i18n.use(lang):
        assert i18n._("confirmed") == cat["confirmed"] != "confirmed"
    assert i18n._("confirmed") == "confirmed"          # back to English outside the block


def test_a_fourth_language_is_a_file(tmp_path, monkeypatch):
    src = i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "shutdown.po"
    for lang in ("kk", "ru", "uk"):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(src, tmp_path / lang / "LC_MESSAGES" / "shutdown.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        assert i18n.languages() == ["en", "kk", "ru", "uk"]
        with i18n.use("uk"):
            assert i18n._("Figures") == "Рисунки"
    finally:
        i18n.catalogue.cache_clear()


def test_dates_and_month_names_come_from_cldr():
    import pandas as pd
    from babel.dates import get_month_names
    t = pd.Timestamp("2022-01-05 16:45", tz="Asia/Almaty")
    for lang in ("kk", "ru"):
        with i18n.use(lang):
            got = i18n.date(t, "d MMMM y, HH:mm")
        assert got.startswith("5 ") and got.endswith("2022, 16:45")
        assert get_month_names("wide", "format", locale=lang)[1] in got
    with i18n.use("kk"):
        assert "қаң" in i18n.date(t, "d MMM")


def test_unknown_language_is_one_line_exit_2():
    r = CliRunner().invoke(app, ["report", "kz-2022-01", "--demo", "--lang", "xx"])
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown language 'xx'" in r.stderr and "kk" in r.stderr


def test_the_font_has_every_kazakh_letter_and_the_figures_use_it(shared):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    root, case, data = shared
    with i18n.use("kk"):
        fig, _ = plot.figure(data, "overview")
        texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontname") and hasattr(a, "get_text"))
                 if t.get_text()]
        fonts = {font_manager.findfont(t.get_fontproperties()) for t in texts}
        drawn = "".join(t.get_text() for t in texts)
        fig.clear()
    assert set("қңөұүі") <= set(drawn)                   # Kazakh text is drawn
    assert {Path(f).name for f in fonts} <= {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                                               "DejaVuSans-Oblique.ttf"}
    for f in fonts:
        font = FT2Font(f)
        assert all(font.get_char_index(ord(c)) for c in KAZAKH_LETTERS), f


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_report_in_each_language_passes_check(reports, lang):
    out = reports[lang]
    res = check.check_dir(out, recompute=False)
    assert res.ok, res.failures
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    cat = i18n.catalogue(lang)
    for heading in ("Figures", "Documented events and their sources", "Data provenance"):
        assert f"## {cat[heading]}" in md
    assert cat["SIMULATED DATA. Every figure and table in this report is built from simulated "
               "responses (the offline demo), not from measurements. Do not cite these numbers."] in md
    assert f'<html lang="{lang}">' in page and f'<div class="sim">{cat["SIMULATED"]}</div>' in page
    assert cat["confirmed"] in md and "| confirmed |" not in md
    m = json.loads((out / "manifest.json").read_text())
    assert m["lang"] == lang
    # verdicts stay machine-readable codes; the events are drawn where the English report draws them
    en = json.loads((reports["en"] / "manifest.json").read_text())
    assert m["verdicts"] == en["verdicts"]
    for name in plot.FIGURES:
        a = json.loads((out / f"figures/{name}.json").read_text())
        b = json.loads((reports["en"] / f"figures/{name}.json").read_text())
        assert [(e["id"], e["drawn_start_utc"], e["drawn_end_utc"]) for e in a["events"]] == \
               [(e["id"], e["drawn_start_utc"], e["drawn_end_utc"]) for e in b["events"]]
        assert (out / f"figures/{name}.png").read_bytes() != (reports["en"] / f"figures/{name}.png").read_bytes()


def test_quotes_kazakh_original_and_our_russian_translation(reports, shared):
    events = shared[2].events
    ev = next(e for e in events if e.id == "kz-03-shutdown")
    kk, ru = (reports["kk"] / "report.md").read_text(), (reports["ru"] / "report.md").read_text()
    assert ev.quote_kk in kk and ev.text_en not in kk
    assert ev.quote_ru and ev.quote_kk in ru and f"*{ev.quote_ru}* (перевод наш)" in ru
    assert ev.title_kk in kk and ev.title_ru in ru
    # dates in the event sections with CLDR month names
    assert "қаңтар" in kk and "января" in ru


def test_english_report_has_no_translation(reports):
    md = (reports["en"] / "report.md").read_text()
    assert "## Figures" in md and "Суреттер" not in md and "перевод наш" not in md
    assert "lang" not in json.loads((reports["en"] / "manifest.json").read_text())
