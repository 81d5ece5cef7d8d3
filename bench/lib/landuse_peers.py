#!/usr/bin/python3
"""The land-use answer per site, timed (issue 23): SpatiaLite SQL, PostGIS and OneMap.

For each site: the ellipsoidal area of site ∩ 图斑 summed per 地类编码 (DLBM), over a
wall-to-wall land-use layer of the whole city. The peers run the query a GIS analyst writes:

  PostGIS:    SELECT dlbm, sum(ST_Area(ST_Intersection(geom, site)::geography))
              WHERE ST_Intersects(geom, site) GROUP BY dlbm (GiST index; GeographicLib).
  SpatiaLite: the same with the SpatialIndex virtual table and the planar area after
              ST_Transform to an equal-area projection on GRS80 (see conflict_peers.py: its
              ST_Area(g, 1) is off by up to 2e-5 relative, so it cannot be held to 1e-6).
  OneMap:     `onemap check --each`, the land-use layer alone (`--layers landuse`: the
              land-use answer, byCode grossM2) and the full check of every layer with the
              land-use answer and the farmland by 地类 under it.

Answers: per site and code, OneMap's and SpatiaLite's gross areas against PostGIS's, within
1e-6 relative or 0.01 m² (issue 23); OneMap leaves out pieces of 0.01 m² or less (its rule for
an overlap), which the peers' sums keep, so a code's area may differ by such slivers.

Timing as conflict_peers.py: engines alternate pass by pass after an untimed warm-up pass;
per bucket of sites and overall; the median over passes of each pass's median per site.

Writes --results/landuse_check.json. Needs Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import statistics
import sys
import time

from conflict_peers import LAEA_LISHUI, LONLAT_GRS80, buckets_of, load_sites, p90, write_groups
from onemap_check import OneMapEngine

REL_TOL = 1e-6
ABS_TOL_M2 = 0.01


class SpatiaLiteEngine:
    name = "spatialite"
    label = "SpatiaLite SQL (SpatialIndex, equal-area ST_Transform, GROUP BY dlbm)"

    def __init__(self, path, table):
        import sqlite3
        self.con = sqlite3.connect(path)
        self.con.enable_load_extension(True)
        self.con.load_extension("mod_spatialite")
        self.table = table
        self.sql = f"""
            SELECT f.dlbm, SUM(ST_Area(ST_Transform(ST_Intersection(f.geom, :g), 0, NULL, :lonlat, :laea)))
            FROM "{table}" AS f
            WHERE f.ROWID IN (SELECT ROWID FROM SpatialIndex
                              WHERE f_table_name = '{table}' AND f_geometry_column = 'geom'
                                AND search_frame = :g)
              AND ST_Intersects(f.geom, :g) = 1
            GROUP BY f.dlbm"""

    def version(self):
        return "SpatiaLite %s, GEOS %s" % self.con.execute("SELECT spatialite_version(), geos_version()").fetchone()

    def count(self):
        return self.con.execute(f'SELECT COUNT(*) FROM "{self.table}"').fetchone()[0]

    def check(self, wkt):
        g = self.con.execute("SELECT GeomFromText(?, 4490)", (wkt,)).fetchone()[0]
        return self.con.execute(self.sql, {"g": g, "lonlat": LONLAT_GRS80, "laea": LAEA_LISHUI}).fetchall()


class PostGISEngine:
    name = "postgis"
    label = "PostGIS (GiST, ST_Area(geography), GROUP BY dlbm)"

    def __init__(self, dsn, table):
        import psycopg2
        self.con = psycopg2.connect(dsn)
        self.con.autocommit = True
        self.cur = self.con.cursor()
        self.table = table
        self.sql = f"""
            SELECT f.dlbm, SUM(ST_Area(ST_Intersection(f.geom, s.g)::geography))
            FROM "{table}" AS f, (SELECT ST_GeomFromText(%s, 4490) AS g) AS s
            WHERE ST_Intersects(f.geom, s.g)
            GROUP BY f.dlbm"""

    def version(self):
        self.cur.execute("SELECT split_part(version(), ' on ', 1), postgis_lib_version()")
        return "%s; PostGIS %s" % self.cur.fetchone()

    def count(self):
        self.cur.execute(f'SELECT COUNT(*) FROM "{self.table}"')
        return self.cur.fetchone()[0]

    def check(self, wkt):
        self.cur.execute(self.sql, (wkt,))
        return self.cur.fetchall()


def by_code(rows):
    """{code: gross m²} without empty codes."""
    return {c.strip(): a for c, a in rows if a is not None and a > 0}


def onemap_by_code(result):
    lu = result.get("landUse") or {}
    return {x["code"]: x["grossM2"] for x in lu.get("byCode", []) if x["grossM2"] > 0}


class LandUseOneMap(OneMapEngine):
    """OneMap as an engine of this bench: its answer is the land-use section's areas by code."""

    def answers_of(self, result):
        return onemap_by_code(result)


def timed_pass(engine, sites):
    if isinstance(engine, OneMapEngine):
        times, results = engine.run_pass()
        answers = {s: onemap_by_code(r) for s, r in zip(engine.site_ids, results)}
        engine.last_results = results
        return {g: med for g, (_mean, med) in times.items()}, None, answers
    times, answers = [], {}
    for site_id, _bucket, wkt in sites:
        t0 = time.perf_counter()
        rows = engine.check(wkt)
        times.append((time.perf_counter() - t0) * 1000)
        answers[site_id] = by_code(rows)
    groups = {}
    for g in ["all"] + buckets_of(sites):
        ts = [t for t, (_, b, _) in zip(times, sites) if g in ("all", b)]
        groups[g] = statistics.median(ts)
    return groups, times, answers


def compare(a, b, ids):
    """Per site and code: the same codes (beyond slivers) and areas within tolerance."""
    mismatches, pairs, max_rel = [], 0, 0.0
    for s in ids:
        for code in set(a[s]) | set(b[s]):
            x, y = a[s].get(code, 0.0), b[s].get(code, 0.0)
            pairs += 1
            diff = abs(x - y)
            rel = diff / max(abs(y), 1e-300)
            if y > ABS_TOL_M2:
                max_rel = max(max_rel, rel)
            if rel > REL_TOL and diff > ABS_TOL_M2:
                mismatches.append({"site": s, "code": code, "first": x, "second": y, "rel": rel})
    return {"equal": not mismatches, "pairs": pairs, "mismatch_count": len(mismatches),
            "mismatches": mismatches[:20], "max_rel_area_diff": max_rel}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", required=True)
    ap.add_argument("--spatialite", required=True)
    ap.add_argument("--pg", required=True)
    ap.add_argument("--onemap", required=True)
    ap.add_argument("--onemap-db", required=True)
    ap.add_argument("--table", default="landuse")
    ap.add_argument("--pg-table", default="landuse", help="PostGIS's table, when it is not --table")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--scale", type=int, required=True)
    a = ap.parse_args()

    sites = load_sites(a.sites)
    groups = write_groups(a.sites, sites, a.work)
    onemap = lambda name, label, layers: LandUseOneMap(name, label, a.onemap, a.onemap_db, groups, a.work, layers)
    engines = [SpatiaLiteEngine(a.spatialite, a.table),
               onemap("onemap", "OneMap, land-use answer alone (check --each --layers landuse)", ["landuse"]),
               PostGISEngine(a.pg, a.pg_table),
               onemap("onemap_full", "OneMap, full check with the land-use answer (check --each)", None)]
    counts = {e.name: e.count(layer="landuse") if isinstance(e, OneMapEngine) else e.count() for e in engines}
    if len(set(counts.values())) != 1:
        sys.exit(f"landuse_peers.py: the engines hold different 图斑 counts: {counts}")
    for e in engines:          # warm-up
        timed_pass(e, sites)
    passes = {e.name: [] for e in engines}
    for p in range(a.runs):
        for e in (engines if p % 2 == 0 else engines[::-1]):
            g, _, answers = timed_pass(e, sites)
            passes[e.name].append((g, answers))
            print(f"  pass {p + 1}: {e.label}: median by bucket "
                  + ", ".join(f"{k} {v:.2f}" for k, v in g.items()), file=sys.stderr)
    answers = {e.name: passes[e.name][-1][1] for e in engines}
    med = {e.name: {g: statistics.median(p[0][g] for p in passes[e.name]) for g in passes[e.name][0][0]}
           for e in engines}
    summary = {"scale": a.scale, "sites": len(sites), "runs": a.runs, "features": counts["postgis"],
               "rel_tol": REL_TOL, "abs_tol_m2": ABS_TOL_M2,
               "engines": {e.name: {"label": e.label, "version": e.version(), "median_ms": med[e.name]} for e in engines},
               "groups": {}}
    for g in ["all"] + buckets_of(sites):
        ids = [s for s, b, _ in sites if g in ("all", b)]
        touched = [len(answers["postgis"][s]) for s in ids]
        summary["groups"][g] = {
            "sites": len(ids), "codes_median": statistics.median(touched), "codes_max": max(touched),
            "postgis_over_onemap_full": med["postgis"][g] / med["onemap_full"][g],
            "spatialite_over_onemap_full": med["spatialite"][g] / med["onemap_full"][g],
            "postgis_over_onemap": med["postgis"][g] / med["onemap"][g],
            "onemap_vs_postgis": compare({s: answers["onemap"][s] for s in ids}, {s: answers["postgis"][s] for s in ids}, ids),
            "onemap_full_vs_postgis": compare({s: answers["onemap_full"][s] for s in ids},
                                              {s: answers["postgis"][s] for s in ids}, ids),
            "spatialite_vs_postgis": compare({s: answers["spatialite"][s] for s in ids},
                                             {s: answers["postgis"][s] for s in ids}, ids)}
        x = summary["groups"][g]
        print(f"  {g}: {len(ids)} sites, median {x['codes_median']:g} codes; median ms "
              + ", ".join(f"{n} {med[n][g]:.2f}" for n in med)
              + f"; PostGIS / OneMap full {x['postgis_over_onemap_full']:.2f}x, SpatiaLite / OneMap full "
              f"{x['spatialite_over_onemap_full']:.2f}x; answers vs PostGIS: onemap {x['onemap_vs_postgis']['equal']}, "
              f"onemap_full {x['onemap_full_vs_postgis']['equal']}, spatialite {x['spatialite_vs_postgis']['equal']}",
              file=sys.stderr)
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "landuse_check.json"), "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
