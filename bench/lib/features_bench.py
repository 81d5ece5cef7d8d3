#!/usr/bin/env python3
"""OGC API - Features bbox queries: OneMap against pygeoapi on the same farmland (issue 7).

Subcommands, driven by bench/run:

  bboxes   BBOXES boxes around farmland parcels picked with a fixed seed, each grown until
           the SpatiaLite peer's R*Tree finds 1,200-1,600 parcel boxes in it, so that every
           box holds more than LIMIT parcels (the timed request returns a full page).
  config   pygeoapi's configuration: one collection, `farmland`, served by pygeoapi's OGR
           provider from a GeoPackage in EPSG:4490 (ogr2ogr -makevalid from the same
           farmland.gpkg; GDAL's GeoPackage driver uses the file's R*Tree for the bbox).
  run      the timed passes and the answer check:
           - every box is asked of both servers as `GET /collections/farmland/items?bbox=
             minx,miny,maxx,maxy&limit=LIMIT` (GeoJSON), one request at a time on one
             keep-alive connection each, the servers alternating pass by pass, after one
             untimed warm-up pass; time = request sent to body read;
           - features/s = features returned / time; ms per request median over requests,
             pass medians, then the median of passes;
           - answers: each box again with limit=10000 (one page, both servers), and the id
             sets (OneMap's `id` is the catalog's id_field BSM; pygeoapi's id_field is BSM)
             must be equal, numberMatched too; and each timed page must be LIMIT features
             out of that set.

Paging: the first PAGING_BOXES boxes are also paged through with `limit=300&offset=…` on
both servers, and the pages' union must be the one-page set. pygeoapi's OGR provider gets
this wrong (it pages with an OGR SQL LIMIT/OFFSET under the bbox filter: pages repeat some
features and miss others), so the timed comparison uses offset 0 only.
"""
import argparse
import http.client
import json
import math
import random
import sqlite3
import statistics
import sys
import time
from urllib.parse import urlencode

PAGING_BOXES = 3     # boxes paged through with offset
PAGE = 300


def cmd_bboxes(a):
    con = sqlite3.connect(a.spatialite)
    boxes = con.execute("SELECT xmin, xmax, ymin, ymax FROM idx_farmland_geom ORDER BY pkid").fetchall()
    rng = random.Random(a.seed)
    out = []
    lo, hi = int(a.limit * 1.2), int(a.limit * 1.6)
    tries = 0
    while len(out) < a.count and tries < a.count * 20:
        tries += 1
        x0, x1, y0, y1 = rng.choice(boxes)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        h = 0.01
        for _ in range(30):
            b = [round(cx - h, 6), round(cy - h * 0.9, 6), round(cx + h, 6), round(cy + h * 0.9, 6)]
            n = con.execute("SELECT COUNT(*) FROM idx_farmland_geom WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?",
                            (b[0], b[2], b[1], b[3])).fetchone()[0]
            if lo <= n <= hi:
                out.append({"bbox": b, "rtree_count": n})
                break
            h *= math.sqrt((lo + hi) / 2 / max(n, 1)) if n else 2
            h = min(h, 0.5)
    if len(out) < a.count:
        raise SystemExit(f"features: found only {len(out)} boxes holding {lo}-{hi} parcels")
    with open(a.out, "w") as f:
        json.dump({"limit": a.limit, "boxes": out}, f)


def cmd_config(a):
    cfg = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": a.port},
            "url": f"http://127.0.0.1:{a.port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "cors": False,
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "none"},
        },
        "logging": {"level": "ERROR"},
        # Every field pygeoapi's OpenAPI generator reads, as in its sample configuration.
        "metadata": {
            "identification": {"title": "bench", "description": "OneMap bench peer", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none", "url": "http://127.0.0.1/"},
            "license": {"name": "none", "url": "http://127.0.0.1/"},
            "provider": {"name": "bench", "url": "http://127.0.0.1/"},
            "contact": {"name": "bench", "position": "bench", "address": "-", "city": "-", "stateorprovince": "-",
                        "postalcode": "-", "country": "-", "phone": "-", "fax": "-", "email": "bench@127.0.0.1",
                        "url": "http://127.0.0.1/", "hours": "-", "instructions": "-", "role": "pointOfContact"},
        },
        "resources": {
            "farmland": {
                "type": "collection",
                "title": "farmland",
                "description": "永久基本农田",
                "keywords": ["farmland"],
                "extents": {"spatial": {"bbox": [118.0, 27.0, 121.0, 29.5],
                                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{
                    "type": "feature",
                    "name": "OGR",
                    "data": {"source_type": "GPKG", "source": a.gpkg,
                             "source_capabilities": {"paging": True},
                             "source_options": {}, "gdal_ogr_options": {}},
                    "id_field": "BSM",
                    "layer": "farmland",
                }],
            }
        },
    }
    with open(a.out, "w") as f:
        json.dump(cfg, f, indent=1, ensure_ascii=False)   # JSON is YAML


class Server:
    def __init__(self, name, url, extra):
        host, port = url.replace("http://", "").rstrip("/").split(":")
        self.name = name
        self.host, self.port = host, int(port)
        self.extra = extra
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def items(self, bbox, limit, offset=None):
        q = {"bbox": ",".join(repr(v) for v in bbox), "limit": limit, **self.extra}
        if offset:
            q["offset"] = offset
        path = "/collections/farmland/items?" + urlencode(q)
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers={"Accept": "application/geo+json"})
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            raise SystemExit(f"{self.name}: GET {path} answered {r.status}: {body[:300]!r}")
        return ms, len(body), json.loads(body)


def cmd_run(a):
    spec = json.load(open(a.bboxes))
    limit = spec["limit"]
    boxes = [b["bbox"] for b in spec["boxes"]]
    servers = [Server("onemap", a.onemap, {}), Server("pygeoapi", a.pygeoapi, {"f": "json"})]
    timings = {s.name: [] for s in servers}       # per pass: list of (ms, features, bytes)
    pages = {s.name: {} for s in servers}
    for p in range(a.runs + 1):                   # pass 0: warm-up, untimed
        order = servers if p % 2 == 0 else servers[::-1]
        for s in order:
            rows = []
            for i, b in enumerate(boxes):
                ms, size, fc = s.items(b, limit)
                rows.append((ms, len(fc["features"]), size))
                pages[s.name][i] = [f["id"] for f in fc["features"]]
            if p > 0:
                timings[s.name].append(rows)
                print(f"  pass {p} {s.name}: median {statistics.median(r[0] for r in rows):.1f} ms/request, "
                      f"{sum(r[1] for r in rows) / (sum(r[0] for r in rows) / 1000):,.0f} features/s", file=sys.stderr)
    engines = {}
    for name, passes in timings.items():
        fps = [sum(r[1] for r in rows) / (sum(r[0] for r in rows) / 1000) for rows in passes]
        med = [statistics.median(r[0] for r in rows) for rows in passes]
        engines[name] = {"features_per_s_by_pass": fps, "features_per_s": statistics.median(fps),
                         "ms_median_by_pass": med, "ms_median": statistics.median(med),
                         "features_per_request": sorted({r[1] for rows in passes for r in rows}),
                         "bytes_median": statistics.median(r[2] for rows in passes for r in rows)}
    # Answers: every box in one page of up to 10,000.
    check = []
    for i, b in enumerate(boxes):
        full = {}
        matched = {}
        for s in servers:
            _, _, fc = s.items(b, 10000)
            full[s.name] = [f["id"] for f in fc["features"]]
            matched[s.name] = fc.get("numberMatched")
        om, pg = set(full["onemap"]), set(full["pygeoapi"])
        page_ok = all(len(pages[n][i]) == limit and set(pages[n][i]) <= set(full[n]) for n in full)
        check.append({"bbox": b, "onemap": len(om), "pygeoapi": len(pg), "equal": om == pg, "ids": full,
                      "duplicates": {n: len(v) - len(set(v)) for n, v in full.items()},
                      "numberMatched": matched, "pages_ok": page_ok,
                      "only_onemap": sorted(om - pg)[:10], "only_pygeoapi": sorted(pg - om)[:10]})
    # Paging with offset, on the first boxes: the union of the pages must be the whole set.
    paging = []
    for i, b in enumerate(boxes[:PAGING_BOXES]):
        row = {"bbox": b}
        for s in servers:
            got, off = [], 0
            while True:
                _, _, fc = s.items(b, PAGE, offset=off)
                got += [f["id"] for f in fc["features"]]
                if len(fc["features"]) < PAGE or off > 20000:
                    break
                off += PAGE
            full = set(check[i]["ids"][s.name])
            row[s.name] = {"returned": len(got), "distinct": len(set(got)), "equal_to_one_page": set(got) == full}
        paging.append(row)
    for c in check:
        del c["ids"]
    out = {"limit": limit, "boxes": len(boxes), "runs": a.runs, "engines": engines, "check": check,
           "paging": paging, "page": PAGE,
           "equal": all(c["equal"] and c["pages_ok"] for c in check),
           "ratio": engines["onemap"]["features_per_s"] / engines["pygeoapi"]["features_per_s"],
           "pygeoapi_version": a.pygeoapi_version, "provider": "OGR (GeoPackage, EPSG:4490)"}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("bboxes")
    p.add_argument("--spatialite", required=True)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", required=True)
    p = sub.add_parser("config")
    p.add_argument("--gpkg", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("run")
    p.add_argument("--onemap", required=True)
    p.add_argument("--pygeoapi", required=True)
    p.add_argument("--pygeoapi-version", default="?")
    p.add_argument("--bboxes", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    {"bboxes": cmd_bboxes, "config": cmd_config, "run": cmd_run}[a.cmd](a)


if __name__ == "__main__":
    main()
