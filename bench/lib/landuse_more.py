#!/usr/bin/env python3
"""The city-wide land-use layer's ledger by township and its tiles, against PostGIS (issue 23).

  ledger     `onemap ledger --layers landuse --by township --format json` (a fresh process each
             time: opening the store is part of it) against the SQL a GIS analyst writes in
             PostGIS: per township (the first 9 digits of ZLDWDM) and code, the geodesic area
             of every 图斑 × (1 − KCXS), and × KCXS under its KCDLBM (田坎 where none is given),
             as the 三调 summary tables count. Runs alternate; the figures must agree within
             1e-6 relative or 0.01 m² for every (township, code).
  list       the tile list: z8 and z10 over the whole layer, z12–z16 under 图斑 picked with a
             fixed seed, a few tiles per zoom (PostGIS's z8 tile of 2,000,000 图斑 takes tens
             of seconds).
  pass       one cold pass over the list: OneMap (GET /tiles/landuse/{z}/{x}/{y}.mvt on a server
             bench/run has just started, after one warm-up tile that reads the layer into memory)
             or PostGIS (Martin's table-source query with every column, ST_AsMVT).
  summarize  per zoom: ms per tile, PostGIS ÷ OneMap, OneMap's largest tile (≤ 500 KiB asked),
             and, for z ≤ 12, the area OneMap's polygons cover in the tile square against the
             data's (within 5 % asked) and the features merged by class.

Writes JSON for report.py. Runs on the bench's venv python (psycopg2, shapely, mapbox-vector-tile).
"""
import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiles_bench import EXTENT, OneMapTiles, count_features, covered_area, decode  # noqa: E402

REL_TOL = 1e-6
ABS_TOL_M2 = 0.01
BUDGET = 500 * 1024
ZOOMS = [8, 10, 12, 14, 15, 16]
PER_ZOOM = {8: 2, 10: 4, 12: 6, 14: 8, 15: 8, 16: 8}


def pg(dsn):
    import psycopg2
    con = psycopg2.connect(dsn)
    con.autocommit = True
    return con


# ---------------------------------------------------------------- ledger by township

PG_LEDGER = """
    WITH t AS (
      SELECT substr(zldwdm, 1, 9) AS xz, trim(dlbm) AS dlbm, coalesce(nullif(trim(kcdlbm), ''), '1203') AS kcdlbm,
             coalesce(kcxs, 0) AS kcxs, ST_Area(geom::geography) AS a
      FROM {table})
    SELECT xz, code, sum(net) FROM (
      SELECT xz, dlbm AS code, a * (1 - kcxs) AS net FROM t
      UNION ALL
      SELECT xz, kcdlbm, a * kcxs FROM t WHERE kcxs > 0) AS s
    GROUP BY xz, code"""


def onemap_ledger(binary, db):
    out = subprocess.run([binary, "ledger", "--layers", "landuse", "--by", "township", "--format", "json", "--db", db],
                         check=True, capture_output=True).stdout
    doc = json.loads(out)
    figures = {}
    for u in doc["units"]:
        lu = (u["layers"].get("landuse") or {}).get("landUse") or {}
        for c in lu.get("byCode", []):
            if c["netM2"] > 0:
                figures[(u["code"], c["code"])] = c["netM2"]
    return figures, len(doc["units"])


def postgis_ledger(con, table):
    cur = con.cursor()
    cur.execute(PG_LEDGER.format(table=table))
    return {(xz, code): net for xz, code, net in cur.fetchall() if net and net > 0}


def cmd_ledger(a):
    con = pg(a.pg)
    runs = {"onemap": [], "postgis": []}
    for r in range(a.runs):
        order = ["onemap", "postgis"] if r % 2 == 0 else ["postgis", "onemap"]
        for eng in order:
            t0 = time.perf_counter()
            if eng == "onemap":
                om, units = onemap_ledger(a.onemap, a.onemap_db)
            else:
                pgf = postgis_ledger(con, a.table)
            runs[eng].append(time.perf_counter() - t0)
            print(f"  ledger run {r + 1} {eng}: {runs[eng][-1]:.2f} s", file=sys.stderr)
    mismatches, max_rel = [], 0.0
    for k in set(om) | set(pgf):
        x, y = om.get(k, 0.0), pgf.get(k, 0.0)
        diff = abs(x - y)
        if y > ABS_TOL_M2:
            max_rel = max(max_rel, diff / y)
        if diff > ABS_TOL_M2 and diff > REL_TOL * abs(y):
            mismatches.append({"township": k[0], "code": k[1], "onemap": x, "postgis": y})
    med = {e: statistics.median(v) for e, v in runs.items()}
    res = {"runs": a.runs, "townships": units, "figures": len(pgf), "onemap_s": med["onemap"], "postgis_s": med["postgis"],
           "onemap_s_by_run": runs["onemap"], "postgis_s_by_run": runs["postgis"],
           "postgis_over_onemap": med["postgis"] / med["onemap"], "equal": not mismatches,
           "mismatch_count": len(mismatches), "mismatches": mismatches[:10], "max_rel_diff": max_rel,
           "postgis_sql": " ".join(PG_LEDGER.format(table=a.table).split())}
    print(f"  ledger by township: {units} townships, {len(pgf)} figures; OneMap {med['onemap']:.2f} s, PostGIS "
          f"{med['postgis']:.2f} s, {res['postgis_over_onemap']:.1f}x; equal {res['equal']} (max rel {max_rel:.1e})",
          file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)


# ---------------------------------------------------------------- tiles

def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def cmd_list(a):
    con = pg(a.pg)
    cur = con.cursor()
    cur.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM {a.table}) s")
    x0, y0, x1, y1 = cur.fetchone()
    # Points on 图斑 spread over the table (a fixed stride), for the tiles where data is.
    cur.execute(f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM {a.table} WHERE fid % 4999 = 17) s")
    points = cur.fetchall()
    rng = random.Random(a.seed)
    tiles = {}
    for z in ZOOMS:
        # Tiles holding many points first at the overview zooms (the dense middle of the city).
        counts = {}
        for lon, lat in points:
            counts[tile_of(lon, lat, z)] = counts.get(tile_of(lon, lat, z), 0) + 1
        if z <= 10:
            chosen = sorted(counts, key=lambda t: (-counts[t], t))[:PER_ZOOM[z]]
        else:
            chosen = rng.sample(sorted(counts), min(PER_ZOOM[z], len(counts)))
        tiles[str(z)] = [list(t) for t in chosen]
    lon, lat = points[len(points) // 2]
    wz = 13
    warm = [wz, *tile_of(lon, lat, wz)]
    with open(a.out, "w") as f:
        json.dump({"zooms": ZOOMS, "tiles": tiles, "warmup": warm, "bounds": [x0, y0, x1, y1]}, f)
    print(f"  land-use tiles: {sum(len(v) for v in tiles.values())} over z{ZOOMS[0]}–z{ZOOMS[-1]}", file=sys.stderr)


class PostGISLandUseTiles:
    def __init__(self, dsn, table):
        self.con = pg(dsn)
        self.cur = self.con.cursor()
        self.cur.execute(f"""SELECT column_name FROM information_schema.columns
                            WHERE table_name = '{table}' AND column_name NOT IN ('geom', 'fid') ORDER BY ordinal_position""")
        props = ", ".join(f'"{c}"' for (c,) in self.cur.fetchall())
        # Martin's table-source query (64-unit buffer), every column, prepared once.
        self.cur.execute(f"""
            PREPARE tile(integer, integer, integer) AS
            SELECT ST_AsMVT(t, 'landuse', {EXTENT}, 'geom', 'fid') FROM (
              SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), {EXTENT}, 64, true) AS geom,
                     fid, {props}
              FROM {table}
              WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => (64.0 / {EXTENT})), 4490)
            ) AS t""")

    def tile(self, z, x, y):
        self.cur.execute("EXECUTE tile(%s, %s, %s)", (z, x, y))
        row = self.cur.fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""


def cmd_pass(a):
    spec = json.load(open(a.tiles))
    if a.engine == "onemap":
        eng = OneMapTiles(a.url, "landuse")
        t0 = time.perf_counter()
        eng.tile(*spec["warmup"])
        print(f"  run {a.run} onemap: warm-up tile (reads the layer into memory) {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    else:
        eng = PostGISLandUseTiles(a.pg, a.table)
        eng.tile(*spec["warmup"])
    keep = os.path.join(a.keep, a.engine)
    os.makedirs(keep, exist_ok=True)
    with open(a.out, "a") as out:
        for z in spec["zooms"]:
            ms = []
            for x, y in spec["tiles"][str(z)]:
                t0 = time.perf_counter()
                body = eng.tile(z, x, y)
                ms.append((time.perf_counter() - t0) * 1000)
                out.write(json.dumps({"engine": a.engine, "run": a.run, "z": z, "x": x, "y": y, "ms": ms[-1],
                                      "bytes": len(body)}) + "\n")
                with open(os.path.join(keep, f"{z}_{x}_{y}.mvt"), "wb") as f:
                    f.write(body)
            print(f"  run {a.run} {a.engine} z{z}: {len(ms)} tiles, {statistics.mean(ms):.0f} ms/tile", file=sys.stderr)


def data_area(con, table, z, x, y):
    """The land use's area in the tile square, tile units² (Web Mercator, as the tile draws it):
    the 图斑 do not overlap, so the sum of their clipped areas is the area covered."""
    cur = con.cursor()
    cur.execute(f"""SELECT COALESCE(SUM(CASE WHEN ST_Within(geom, ST_Transform(e, 4490)) THEN ST_Area(ST_Transform(geom, 3857))
                                            ELSE ST_Area(ST_Intersection(ST_Transform(geom, 3857), e)) END), 0),
                          ST_XMax(e) - ST_XMin(e)
                   FROM {table}, ST_TileEnvelope(%s, %s, %s) AS e
                   WHERE geom && ST_Transform(e, 4490) GROUP BY e""", (z, x, y))
    row = cur.fetchone()
    return row[0] * (EXTENT / row[1]) ** 2 if row else 0.0


def cmd_summarize(a):
    spec = json.load(open(a.tiles))
    rows = [json.loads(l) for l in open(a.runs)]
    con = pg(a.pg)
    zooms = {}
    for z in spec["zooms"]:
        zs = {}
        for eng in ("onemap", "postgis"):
            rs = [r for r in rows if r["engine"] == eng and r["z"] == z]
            per_run = [statistics.mean(r["ms"] for r in rs if r["run"] == run) for run in sorted({r["run"] for r in rs})]
            zs[eng] = {"ms_per_tile": statistics.median(per_run), "ms_by_run": per_run,
                       "max_bytes": max(r["bytes"] for r in rs), "median_bytes": statistics.median(r["bytes"] for r in rs)}
        zs["postgis_over_onemap"] = zs["postgis"]["ms_per_tile"] / zs["onemap"]["ms_per_tile"]
        if z <= 12:
            cover = []
            for x, y in spec["tiles"][str(z)]:
                name = f"{z}_{x}_{y}.mvt"
                om = decode(os.path.join(a.keep, "onemap", name))
                truth = data_area(con, a.table, z, x, y)
                with open(os.path.join(a.keep, "postgis", name), "rb") as f:
                    pg_features = count_features(f.read())
                cover.append({"tile": name, "cover_ratio": covered_area(om) / truth if truth else None,
                              "onemap_features": len(om), "merged_by_class": sum(1 for f in om if "om_class" in f["properties"]),
                              "postgis_features": pg_features})
            zs["coverage"] = cover
        zooms[str(z)] = zs
        print(f"  z{z}: OneMap {zs['onemap']['ms_per_tile']:.1f} ms/tile, PostGIS {zs['postgis']['ms_per_tile']:.1f}, "
              f"{zs['postgis_over_onemap']:.1f}x; OneMap max {zs['onemap']['max_bytes'] / 1024:.0f} KiB"
              + (f"; cover {min(c['cover_ratio'] for c in zs['coverage']):.3f}–{max(c['cover_ratio'] for c in zs['coverage']):.3f}"
                 if "coverage" in zs else ""), file=sys.stderr)
    res = {"zooms": zooms, "budget_bytes": BUDGET,
           "all_within_budget": all(zooms[str(z)]["onemap"]["max_bytes"] <= BUDGET for z in spec["zooms"])}
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)


# Each subcommand's options: name, then required (True), or a default.
OPTIONS = {
    "ledger": [("--onemap", True), ("--onemap-db", True), ("--pg", True), ("--runs", 3), ("--out", True)],
    "list": [("--pg", True), ("--seed", 2026), ("--out", True)],
    "pass": [("--engine", True), ("--tiles", True), ("--url", None), ("--pg", None), ("--run", True), ("--out", True),
             ("--keep", True)],
    "summarize": [("--tiles", True), ("--runs", True), ("--keep", True), ("--pg", True), ("--out", True)],
}
COMMANDS = {"ledger": cmd_ledger, "list": cmd_list, "pass": cmd_pass, "summarize": cmd_summarize}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd, options in OPTIONS.items():
        p = sub.add_parser(cmd)
        for name, rule in options:
            if rule is True:
                p.add_argument(name, required=True, type=int if name == "--run" else str)
            else:
                p.add_argument(name, default=rule, type=type(rule) if rule is not None else str)
        p.add_argument("--table", default="landuse", help="the land use's PostGIS table")
    a = ap.parse_args()
    if a.cmd == "pass" and a.engine not in ("onemap", "postgis"):
        ap.error("--engine is onemap or postgis")
    COMMANDS[a.cmd](a)


if __name__ == "__main__":
    main()
