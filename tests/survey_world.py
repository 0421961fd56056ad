"""A local stand-in that answers like IODA for many countries at once, from a test world
whose outages we know: one simulated World per country (``shutdown.simulation``, the shapes
render_ioda.py cites from InetIntel/ioda-api), routed by the entity each request names.

    with IodaWorld(tmp_path, WORLD) as srv:
        srv.url      # http://127.0.0.1:PORT/v2, for --url ioda=...

WORLD maps a country code to its regions and its outage episodes (UTC); everything else is
the simulator's normal behaviour. SYNTHETIC: the countries' names are real so documenters'
files read as they would, the data is made up.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SPAN = (dt.date(2018, 12, 1), dt.date(2020, 1, 31))
CUT = ["ioda.ping-slash24", "ioda.merit-nt", "ioda.gtr"]


def _scenario_toml(cc: str, spec: dict) -> str:
    q = lambda s: json.dumps(s)
    out = [f"name = {q('world-' + cc.lower())}", "synthetic = true",
           'fetched_utc = "2020-02-01T00:00:00Z"', "", "[[entities]]",
           f"entity = {q('country:' + cc)}",
           "ioda.bgp = { level = 1500, noise = 0.002 }",
           "ioda.ping-slash24 = { level = 900, daily = 0.1, noise = 0.03 }",
           "ioda.merit-nt = { level = 2500, daily = 0.3, noise = 0.05 }",
           "ioda.gtr = { level = 1.0, daily = 0.5, noise = 0.05 }"]
    for r in spec.get("regions", ()):
        out += ["", "[[entities]]", f"entity = {q('region:' + r)}", f"name = {q(r)}",
                "ioda.ping-slash24 = { level = 200, daily = 0.1, noise = 0.03 }",
                "ioda.merit-nt = { level = 600, daily = 0.3, noise = 0.05 }"]
    for i, (ent, start, end) in enumerate(spec.get("outages", ())):
        sigs = CUT if ent.startswith("country:") else CUT[:2]
        out += ["", "[[episodes]]", f'id = "outage-{i}"', f"start = {start}", f"end = {end}",
                f"entities = [{q(ent)}]", f"signals = [{', '.join(q(s) for s in sigs)}]",
                'type = "cut"', "depth = 0.95"]
    return "\n".join(out) + "\n"


def worlds(tmp: Path, spec: dict) -> dict:
    from shutdown.case import Case
    from shutdown.scenario import load_scenario
    from shutdown.simulation.world import World
    out = {}
    for cc, s in spec.items():
        p = tmp / f"world-{cc.lower()}.toml"
        p.write_text(_scenario_toml(cc, s))
        case = Case(name=f"world-{cc.lower()}", title="stand-in", path=p, country=cc,
                    timezone="UTC", start=SPAN[0], end=SPAN[1], baseline_days=1,
                    timeline_path=p, sources=("ioda",))
        out[cc] = World(load_scenario(p), case)
    return out


class IodaWorld:
    def __init__(self, tmp: Path, spec: dict):
        self.worlds = worlds(tmp, spec)
        self.requests = 0

    def world_for(self, path: str, params: dict):
        from shutdown.simulation.render_ioda import regions
        parts = path.strip("/").split("/")
        if path.rstrip("/") == "/entities/query":
            rel = str(params.get("relatedTo", ""))
            return self.worlds.get(rel.split("/")[-1].upper())
        if len(parts) >= 4 and parts[2] == "country":
            return self.worlds.get(parts[3].upper())
        if len(parts) >= 4 and parts[2] == "region":
            return next((w for w in self.worlds.values()
                         if any(c == parts[3] for c, _ in regions(w))), None)
        return next(iter(self.worlds.values()))

    def __enter__(self):
        from shutdown.simulation.render_ioda import render
        srv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(u.query).items()}
                path = u.path[len("/v2"):] if u.path.startswith("/v2") else u.path
                srv.requests += 1
                w = srv.world_for(path, params)
                if w is None:           # a country the world does not hold: IODA's empty answer
                    status, body = 200, json.dumps({"type": "signals", "error": None,
                                                    "data": [[]], "metadata": {}}).encode()
                    if path.rstrip("/") == "/entities/query":
                        body = json.dumps({"type": "entities.lookup", "error": None,
                                           "data": []}).encode()
                else:
                    status, body = render(w, path, params)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
