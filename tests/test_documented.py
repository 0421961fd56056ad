"""Documenters' files read into one model: every STOP layout, IODA's curated CSV, timelines;
bad files refused in one line; the windows rule; the real files where ../shared has them."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

import documented_files as F


def run(*args):
    from shutdown.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(res, *words):
    assert res.exit_code == 2, res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture
def stop(tmp_path):
    return F.write_stop_xlsx(tmp_path / "stop.xlsx")


def test_every_stop_layout_read_alike(stop):
    from shutdown import documented
    d = documented.read(stop)
    ev = {e.id: e for e in d.events}
    assert set(ev) == {"stop-2016-2018-r2", "stop-2016-2018-r3", "stop-2016-2018-r4",
                       "stop-2016-2018-r5", "stop-2019-r2", "stop-2019-r3", "stop-2022-r2",
                       "stop-2022-r3"}
    assert any("Need more details" in n for n in d.notes)
    iq = ev["stop-2016-2018-r2"]
    assert (iq.country, iq.scope, iq.kinds, iq.networks) == ("IQ", "national", ("shutdown",),
                                                             ("mobile", "broadband"))
    india = ev["stop-2016-2018-r3"]     # "Mobile Internet" group: a full-network shutdown
    assert india.kinds == ("shutdown",) and india.networks == ("mobile",)
    assert india.scope == "local" and india.areas == ("Srinagar", "Jammu and Kashmir")
    assert india.end is None and "ongoing" in india.note
    et = ev["stop-2016-2018-r4"]
    assert et.scope == "national" and et.kinds == ("service-based",)     # multi-regional
    assert et.services == ("facebook", "twitter")
    td = ev["stop-2016-2018-r5"]
    assert td.kinds == ("throttling",) and td.networks == ("mobile", "broadband")
    assert td.end is None and "before the start" in td.note      # 4/1/2018 < 6/1/2018
    zw = ev["stop-2019-r2"]
    assert zw.kinds == ("shutdown", "throttling", "service-based")
    assert zw.services == ("facebook", "whatsapp") and zw.scope == "national"
    sd = ev["stop-2019-r3"]
    assert sd.scope == "regional" and sd.areas == ("Khartoum",)   # "Level  2", two spaces
    kz = ev["stop-2022-r2"]
    assert kz.services == ("whatsapp", "telegram", "signal")        # "Signal, possibly"
    assert kz.operators == ("Kazakhstan: Kcell (Fintur)", "Kazakhtelecom JSC")
    assert kz.citation.startswith("Access Now #KeepItOn STOP data, sheet '2022 Data', row 2")
    assert "https://example.org/kz" in kz.citation
    assert ev["stop-2022-r3"].scope == "local" and ev["stop-2022-r3"].end is None


def test_a_stop_day_is_the_whole_local_day_in_every_zone_of_the_country(stop):
    from shutdown import documented
    kz = documented.read(stop, country="KZ").events[0]
    s, e = kz.window_utc
    # 4 Jan 00:00 in Asia/Almaty (UTC+6) .. 12 Jan 00:00 in Asia/Aqtau (UTC+5), as in 2022
    assert s == dt.datetime(2022, 1, 3, 18, tzinfo=dt.timezone.utc)
    assert e == dt.datetime(2022, 1, 11, 19, tzinfo=dt.timezone.utc)
    assert kz.timezone == "Asia/Almaty" and "Asia/Aqtau" in kz.zones


def test_csv_export_dates_in_every_spelling(tmp_path):
    from shutdown import documented
    rows = [dict(id=1, start_date="1/15/2019", end_date="2019-01-17", country="Zimbabwe",
                 geo_scope="Level 3", shutdown_type_new="Shutdown", affected_network="Mobile",
                 **{"fullorservice-based": "Full"}),
            dict(id=2, start_date="43500", end_date="5-Feb-2019", country="Sudan",
                 geo_scope="Level 1", area_name="Atbara", shutdown_type_new="Throttle",
                 affected_network="Broadband", **{"fullorservice-based": "Full"})]
    d = documented.read(F.write_stop_csv(tmp_path / "kio_2019.csv", F.H_2019, rows))
    a, b = d.events
    assert (a.start, a.end) == (dt.date(2019, 1, 15), dt.date(2019, 1, 17))
    assert (b.start, b.end) == (dt.date(2019, 2, 4), dt.date(2019, 2, 5))   # Excel day 43500
    assert a.id == "stop-2019-r2" and b.kinds == ("throttling",)


def test_documented_cli_lists_the_kz_row_with_its_fields(stop):
    res = run("documented", stop, "--country", "KZ", "--format", "json")
    assert res.exit_code == 0, res.output
    (kz,) = json.loads(res.stdout)
    for k in ("id", "documenter", "country", "scope", "area", "kind", "start", "end",
              "precision", "timezone", "citation"):
        assert k in kz
    assert (kz["start"], kz["end"], kz["precision"], kz["country"]) == \
        ("2022-01-04", "2022-01-11", "day", "KZ")
    table = run("documented", stop, "--country", "Kazakhstan")
    assert "stop-2022-r2" in table.stdout and "stop-2019" not in table.stdout
    assert run("documented", stop, "--from", "2019-01-01", "--to", "2019-12-31",
               "--format", "csv").stdout.count("stop-2019-") == 2


@pytest.mark.parametrize("damage, words", [
    ("unknown_layout", ["sheet 'Sheet1'", "unknown STOP column layout", "shutdown_extent"]),
    ("missing_column", ["sheet '2019'", "lacks the column(s)", "affected_network"]),
    ("bad_start", ["sheet '2019'", "row 3", "field 'start_date'", "not a date"]),
    ("bad_end", ["row 2", "field 'end_date'"]),
    ("bad_scope", ["row 2", "field 'geo_scope'", "Level 9"]),
])
def test_a_damaged_workbook_is_one_line(tmp_path, damage, words):
    H, R = list(F.H_2019), [dict(r) for r in F.ROWS_2019]
    name = "2019"
    if damage == "unknown_layout":
        H, name = ["start_date", "country", "what"], "Sheet1"
        R = [["2019-01-01", "Chad", "x"]]
    elif damage == "missing_column":
        H.remove("affected_network")
    elif damage == "bad_start":
        R[1]["start_date"] = "sometime in June"
    elif damage == "bad_end":
        R[0]["end_date"] = "whenever"
    else:
        R[0]["geo_scope"] = "Level 9"
    p = F.write_stop_xlsx(tmp_path / "bad.xlsx", [(name, H, R)])
    one_error_line(run("documented", p), str(p), *words)


def test_not_a_workbook_missing_sheet_and_missing_file(tmp_path, stop):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(stop.read_bytes()[:300])
    one_error_line(run("documented", broken), "broken.xlsx", "not a readable xlsx")
    one_error_line(run("documented", stop, "--sheet", "2023 Data"), "no sheet '2023 Data'",
                   "'2019'")
    one_error_line(run("documented", tmp_path / "none.xlsx"), "no such file")
    one_error_line(run("documented", stop, "--country", "Atlantis"), "--country")
    one_error_line(run("documented", stop, "--from", "2019-13-01"), "--from")


def test_ioda_curated_every_time_spelling_and_scope(tmp_path):
    from shutdown import documented
    p = F.write_ioda_csv(tmp_path / "ioda.csv", [
        ("A1", "Wednesday, March 17, 2021, 4:40:00 PM", "Wednesday, March 17, 2021, 5:40:00 PM",
         "South Sudan", "N/A", "N/A", "N/A", "Region (Central Equitoria)"),
        ("A2", "Sunday April 7, 2019, 4:30 AM", "N/A", "Myanmar/Burma", "True ", "TRUE", "FALSE ",
         "Country"),
        ("A3", "Monday, June 10, 2019, 4:40: PM", "7/28/2020  17:00:00 PM", "Syria", "FALSE",
         "TRUE", "", "AS (29256)"),
        ("A4", "", "", "Iraq", "", "", "", "Country"),
    ])
    d = documented.read(p)
    a1, a2, a3 = d.events
    assert (a1.start, a1.end, a1.scope, a1.areas) == (dt.datetime(2021, 3, 17, 16, 40),
                                                     dt.datetime(2021, 3, 17, 17, 40),
                                                     "regional", ("Central Equitoria",))
    assert a1.window_utc[1] - a1.window_utc[0] == dt.timedelta(hours=1)
    assert (a2.country, a2.end, dict(a2.signals)) == ("MM", None, {"bgp": True, "ap": True,
                                                                   "ibr": False})
    assert a3.start == dt.datetime(2019, 6, 10, 16, 40) and a3.asns == (29256,)
    assert a3.end == dt.datetime(2020, 7, 28, 17, 0) and a3.scope == "network"
    assert any("without a begin time" in n for n in d.notes)
    assert d.sees == ("shutdown",)


@pytest.mark.parametrize("row, words", [
    (("B1", "Tuesday, Smarch 3, 2020, 1:00:00 PM", "", "Iraq", "", "", "", "Country"),
     ["row 2", "field 'Begin time'", "Smarch"]),
    (("B2", "Tuesday, March 3, 2020, 1:00:00 PM", "soon", "Iraq", "", "", "", "Country"),
     ["row 2", "field 'End time'"]),
    (("B3", "Tuesday, March 3, 2020, 1:00:00 PM", "", "Iraq", "", "", "", "City (Basra)"),
     ["row 2", "Scope", "City (Basra)"]),
])
def test_a_damaged_ioda_file_is_one_line(tmp_path, row, words):
    p = F.write_ioda_csv(tmp_path / "ioda.csv", [row])
    one_error_line(run("documented", p), "ioda.csv", *words)


def test_report_timeline_is_a_documenter():
    from shutdown import documented
    d = documented.read("kz-2022-01")
    ids = {e.id: e for e in d.events}
    assert ids["kz-03-shutdown"].kinds == ("shutdown",) and ids["kz-03-shutdown"].country == "KZ"
    assert ids["kz-02-messengers"].services == ("whatsapp", "telegram", "signal")
    assert "kz-08-restored" not in ids and any("kz-08-restored" in n for n in d.notes)
    s, e = ids["kz-03-shutdown"].window_utc
    assert (s.isoformat(), e.isoformat()) == ("2022-01-04T18:00:00+00:00",
                                              "2022-01-05T18:00:00+00:00")


# ---- the windows rule ------------------------------------------------------------------

def _rec(id, **kw):
    from shutdown.documented.model import Documented
    base = dict(documenter="t", country="KZ", scope="national", kinds=("shutdown",),
                start=dt.date(2022, 1, 5), end=None, precision="day", timezone="Asia/Almaty",
                citation="t")
    return Documented(id=id, **{**base, **kw})


def _ioda(id, start, **kw):
    return _rec(id, start=start, end=start + dt.timedelta(hours=2), precision="minute",
                timezone="UTC", **kw)


def _docs(events, **kw):
    from shutdown.documented.model import Documents
    return Documents("t", "B", "t", events, **kw)


def test_windows_reads_each_side_in_its_own_zone_and_precision():
    from shutdown import documented
    a = _docs([_rec("jan4", start=dt.date(2022, 1, 4), end=dt.date(2022, 1, 4)),
               _rec("jan5", start=dt.date(2022, 1, 5), end=dt.date(2022, 1, 5))])
    # 2022-01-04 18:30 UTC is 00:30 on 5 January in Almaty: the 5th's record, not the 4th's
    b = _docs([_ioda("cut", dt.datetime(2022, 1, 4, 18, 30)),
               _ioda("earlier", dt.datetime(2021, 12, 1, 0, 0), country="UZ")], sees=("shutdown",),
              resolves=("national", "regional", "network"))
    rows = {r["id"]: r for r in documented.match(a, b, "windows")["rows"]}
    assert rows["jan5"]["matches"] == ["cut"]
    assert rows["jan4"]["matches"] == [] and rows["jan4"]["why"] == "none-in-window"
    assert "0.0 days after" in rows["jan4"]["reason"]


def test_windows_is_scope_and_kind_aware():
    from shutdown import documented
    t = dt.datetime(2022, 1, 5, 6, 0)
    a = _docs([_rec("nat"), _rec("reg", scope="regional", areas=("Almaty City",)),
               _rec("reg2", scope="regional", areas=("Mangystau",)),
               _rec("asn", scope="network", asns=(9198,)),
               _rec("svc", kinds=("service-based",), services=("telegram",)),
               _rec("city", scope="local", areas=("Zhanaozen",)),
               _rec("elsewhere", country="UZ", timezone="Asia/Tashkent")])
    b = _docs([_ioda("b-reg", t, scope="regional", areas=("Almaty city",)),
               _ioda("b-asn", t, scope="network", asns=(9198,))],
              sees=("shutdown",), resolves=("national", "regional", "network"))
    got = documented.match(a, b, "windows")
    rows = {r["id"]: r for r in got["rows"]}
    assert rows["reg"]["matches"] == ["b-reg"] and rows["asn"]["matches"] == ["b-asn"]
    assert rows["nat"]["why"] == "other-scope"            # B has KZ only by region and AS
    assert rows["reg2"]["why"] == "other-scope"
    assert rows["svc"]["expected"] is False and "records only shutdown" in rows["svc"]["reason"]
    assert rows["city"]["expected"] is False and "local" in rows["city"]["reason"]
    assert rows["elsewhere"]["why"] == "none-in-country"
    # counted: nat, reg, reg2, asn, elsewhere; not expected there: svc, city
    assert got["total"] == {"matched": 2, "of": 5, "share": 0.4}
    assert got["not_expected"]["of"] == 2


def test_match_cli_table_and_csv(tmp_path, stop):
    p = F.write_ioda_csv(tmp_path / "ioda.csv", [
        ("K1", "Wednesday, January 5, 2022, 12:00:00 PM", "Thursday, January 6, 2022, 1:00 PM",
         "Kazakhstan", "FALSE", "TRUE", "TRUE", "Country")])
    res = run("match", stop, p, "--rule", "windows")
    assert res.exit_code == 0, res.output
    assert "matched 1 of" in res.stdout and "geo_scope" in res.stdout
    csv_out = run("match", stop, p, "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,country,scope")
    kz = [x for x in csv_out if x.startswith("stop-2022-r2,")]
    assert kz and "ioda-K1-r2" in kz[0]
    one_error_line(run("match", stop, p, "--rule", "loose"), "unknown rule 'loose'")


@pytest.mark.skipif(not F.STOP_XLSX.exists(), reason="../shared/data/documented is absent")
def test_real_stop_workbook():
    from shutdown import documented
    d = documented.read(F.STOP_XLSX)
    per = {}
    for e in d.events:
        per[e.raw["_sheet"]] = per.get(e.raw["_sheet"], 0) + 1
    assert per == {"2016+2017+2018 ": 377, "2019": 213, "2020 Data": 159, "2021 Data": 182,
                   "2022 Data": 187}
    kz = {e.id: e for e in documented.read(F.STOP_XLSX, country="KZ").events}
    jan = kz["stop-2022-r20"]
    assert (jan.start, jan.end, jan.scope) == (dt.date(2022, 1, 4), dt.date(2022, 1, 11), "national")
    assert jan.kinds == ("shutdown", "throttling", "service-based")
    assert set(jan.services) >= {"whatsapp", "telegram", "signal"}
    assert "Kazakhstan: Kcell (Fintur)" in jan.operators
    assert jan.citation.startswith("Access Now #KeepItOn STOP data, sheet '2022 Data', row 20")


@pytest.mark.skipif(not (F.STOP_XLSX.exists() and F.IODA_CSV.exists()),
                    reason="../shared/data/documented is absent")
def test_real_files_windows_rule_and_our_timeline():
    import dateutil.parser as dp
    from shutdown import documented
    ioda = documented.read(F.IODA_CSV)
    assert len(ioda.events) == 1704
    for e in ioda.events:       # our spellings read every begin time as dateutil does
        assert e.start == dp.parse(e.raw["begin"].replace(": ", ":00"), fuzzy=True)
    res = run("match", "kz-2022-01", F.STOP_XLSX, "--rule", "windows", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["kz-03-shutdown"]["matches"] == ["stop-2022-r20"]
    assert rows["kz-02-messengers"]["matches"] == ["stop-2022-r20"]
    w = json.loads(run("match", F.STOP_XLSX, F.IODA_CSV, "--rule", "windows", "--from",
                       "2018-01-01", "--to", "2021-08-01", "--format", "json").stdout)
    # every STOP row IODA is expected to hold is matched or says why not
    assert all(r["matched"] or r["why"] for r in w["rows"] if r["expected"])
    assert w["total"]["of"] + w["not_expected"]["of"] == len(w["rows"])
    assert 0 < w["total"]["matched"] < w["total"]["of"]


def test_match_out_writes_figures_whose_sidecars_say_what_the_data_say(tmp_path, stop):
    """The shares figure's bars are the rules' shares; the strip draws every KZ record of
    both documenters and joins exactly the windows rule's pairs; each CSV holds those rows."""
    import csv
    p = F.write_ioda_csv(tmp_path / "ioda.csv", [
        ("K1", "Wednesday, January 5, 2022, 12:00:00 PM", "Thursday, January 6, 2022, 1:00 PM",
         "Kazakhstan", "FALSE", "TRUE", "TRUE", "Country"),
        ("K2", "Monday, March 1, 2021, 3:00:00 AM", "N/A", "Myanmar", "TRUE", "TRUE", "TRUE",
         "Country")])
    out = tmp_path / "m"
    res = run("match", stop, p, "--out", out, "--country", "KZ", "--format", "json")
    assert res.exit_code == 0, res.output
    from shutdown import documented
    a, b = documented.read(stop, country="KZ"), documented.read(p, country="KZ")
    want = {r: documented.match(a, b, r) for r in ("sigcomm23", "windows")}
    side = json.loads((out / "shares.json").read_text())
    bars = {(x["rule"], x["group"], x["value"]): x["percent"] for x in side["drawn"]["bars"]}
    for rule, r in want.items():
        for g in r["by"]:
            if g["group"] in ("geo_scope", "kind", "year"):
                assert bars.pop((rule, g["group"], g["value"])) == pytest.approx(
                    100 * (g["share"] or 0))
    assert not bars
    with open(out / "shares.csv") as f:
        assert len(list(csv.DictReader(f))) == side["rows"]
    strip = json.loads((out / "strip-KZ.json").read_text())
    assert {x["id"] for x in strip["drawn"]["records"]} == \
        {e.id for e in a.events} | {e.id for e in b.events}
    assert strip["drawn"]["pairs"] == want["windows"]["pairs"] == [{"a": "stop-2022-r2",
                                                                    "b": "ioda-K1-r2"}]
    page = (out / "match.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.split("<body>")[0]
    assert "strip-KZ.csv" in (out / "match.md").read_text()
