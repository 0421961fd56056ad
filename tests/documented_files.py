"""Small documenters' files of our own, in the real files' layouts (for tests that always run).

Rows are invented; the column headers are those of the public files (Access Now STOP
2016-2022 workbook, sheets "2016+2017+2018 ", "2019", "2020 Data".."2022 Data"; IODA's
investigated-outages CSV of the SIGCOMM'23 artifact), spelled as there, stray spaces
included, so the readers meet what they will meet.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "documented"
STOP_XLSX = SHARED / "keepiton-stop-2016-2022.xlsx"
IODA_CSV = SHARED / "ioda-investigated-outages-2018-2022.csv"

H_2018 = ["year", "start_date", "end_date", "duration_days", "duration_hours", "info_source",
          "news_link", "continent", "sub_region", "country", "geo_scope", "area_name",
          "ordered_by", "shutdown_type_group", "shutdown_type", "official_just", "actual_cause",
          "econ_impact", "event", "an_link", "services_affected", "service_details", "notes",
          "latitude", "longitude", "id"]
H_2019 = ["ID", "start_date", "end_date ", "duration", "Info_source ", "news_link ", "continent",
          "sub-region", "country ", "geo_scope", "area_name ", "ordered_by ", "decision_maker",
          "shutdown_type_new", "affected_network", "full or service-based", "Facebook_affected",
          "Twitter_affected", "WhatsApp_affected", "Instagram_affected", "Telegram_affected",
          "other_service_details (specify) ", "SMS_and_phone_call_affected", "telcos_involved ",
          "event "]
H_2020 = ["start_date_type", "start_date", "country", "geo_scope", "area_name", "shutdown_type",
          "affected_network", "shutdown_extent", "ordered_by", "actual_cause", "info_source",
          "info_source_link", "shutdown_status", "end_date", "Duration", "facebook_affected",
          "twitter_affected", "whatsapp_affected", "instagram_affected", "telegram_affected",
          "other_affected", "telcos_involved", "event"]

D = dt.datetime


def _row(header, **cells):
    return [cells.get(h.strip().lower().replace(" ", ""), None) for h in header]


ROWS_2018 = [  # (cells by normalized column)
    dict(year=2018, start_date=D(2018, 3, 1), end_date=D(2018, 3, 2), country="Iraq",
         geo_scope="National", area_name="Nationwide", shutdown_type_group="Full network",
         shutdown_type="Broadband Internet, Mobile Internet",
         services_affected="Broadband Internet, Mobile Internet", news_link="https://example.org/a",
         event="Exams"),
    dict(year=2018, start_date=D(2018, 4, 10), end_date="ongoing", country="India",
         geo_scope="Local", area_name="Srinagar, Jammu and Kashmir",
         shutdown_type_group="Mobile Internet", shutdown_type="Mobile Internet",
         services_affected="Mobile Internet", news_link="https://example.org/b"),
    dict(year=2018, start_date=D(2018, 5, 5), end_date=D(2018, 5, 6), country="Ethiopia",
         geo_scope="Multi-regional", area_name="Oromia; Amhara", shutdown_type_group="Service-based",
         shutdown_type="Service-based", services_affected="Service-based",
         service_details="Facebook, Twitter", news_link="https://example.org/c"),
    dict(year=2018, start_date=D(2018, 6, 1), end_date="4/1/2018 upon a visit", country="Chad",
         geo_scope="Regional", area_name="N'Djamena", shutdown_type_group="Throttling",
         shutdown_type="Throttling", services_affected="Broadband Internet & Mobile Internet"),
]
ROWS_2019 = [
    dict(id=1, start_date=D(2019, 1, 15), end_date="Unkown ", country="Zimbabwe ",
         geo_scope="Level 3", area_name="National ", shutdown_type_new="Shutdown and throttle",
         affected_network="Mobile and broadband", **{"fullorservice-based": "Full and Service-based",
                                                     "facebook_affected": True,
                                                     "whatsapp_affected": True,
                                                     "twitter_affected": False}),
    dict(id=2, start_date=D(2019, 6, 3), end_date=D(2019, 6, 12), country="Sudan",
         geo_scope="Level  2", area_name="Khartoum", shutdown_type_new="Shutdown",
         affected_network="Mobile", **{"fullorservice-based": "Full"}),
]
ROWS_2020 = [
    dict(start_date_type="Actual", start_date=D(2022, 1, 4), country="Kazakhstan",
         geo_scope="It affected locations in more than one state, province, or region",
         area_name="Nationwide", shutdown_type="Shutdown, Throttle", affected_network="Broadband, Mobile",
         shutdown_extent="Full network, Service-based", actual_cause="Protests",
         info_source_link="https://example.org/kz, https://example.org/kz2", shutdown_status="Ended",
         end_date=D(2022, 1, 11), facebook_affected="No", whatsapp_affected="Yes",
         telegram_affected="Yes", other_affected="Signal, possibly",
         telcos_involved="Kazakhstan: Kcell (Fintur), Kazakhtelecom JSC", event="Protests"),
    dict(start_date_type="Actual", start_date=D(2021, 3, 1), country="Myanmar",
         geo_scope="It only affected one city, county, or village", area_name="Hpakant",
         shutdown_type="Shutdown", affected_network="Mobile", shutdown_extent="Full network",
         end_date=None, shutdown_status="Ongoing"),
]


def write_stop_xlsx(path: Path, sheets=None) -> Path:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = sheets or [("2016+2017+2018 ", H_2018, ROWS_2018), ("2019", H_2019, ROWS_2019),
                        ("2022 Data", H_2020, ROWS_2020),
                        ("Need more details", None, [[2017, "Afghanistan", "https://x.org"]])]
    for name, header, rows in sheets:
        ws = wb.create_sheet(name)
        if header is None:
            for r in rows:
                ws.append(r)
            continue
        ws.append(header)
        for r in rows:
            ws.append(_row(header, **r) if isinstance(r, dict) else r)
    wb.save(path)
    return path


def write_stop_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in (_row(header, **r) if isinstance(r, dict)
                                                          else r)])
    return path


IODA_HEADER = ["ID", "Begin time", "End time", "Country", "IODA BGP visible by human",
               "IODA AP visible by human ", " IODA IBR visible by human",
               "Scope (based on granularity at which the outage appears in IODA)", "Region", "AS",
               "Cause", "Confirmation Status", "Manually verified", "Grafana URLs", "Notes", ""]


def write_ioda_csv(path: Path, rows) -> Path:
    """rows: (id, begin, end, country, bgp, ap, ibr, scope)."""
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(IODA_HEADER)
        for r in rows:
            w.writerow(list(r) + ["", "", "", "", "YES", "", "", ""])
    return path
