#!/usr/bin/python3
"""Conflict check per site, timed: SpatiaLite SQL, PostGIS and OneMap, side by side.

For each site: the farmland parcels whose intersection with the site has an
ellipsoidal area over 0.01 m^2 (issue 4's rule), with that area. Every engine gets
exactly the same input, the sites of sites.geojson (the peers as WKT read back from
it, OneMap the file itself), and computes the area on the CGCS2000 ellipsoid (GRS80).

  SpatiaLite: ST_Intersects + ST_Intersection, candidates from the SpatialIndex
              virtual table (R*Tree); area = planar ST_Area after ST_Transform to a
              Lambert azimuthal EQUAL-AREA projection on GRS80 centred on Lishui.
              An equal-area projection keeps areas, so this is the ellipsoidal area
              up to ~1e-7 relative (edges straight in the projection, not geodesics).
  SpatiaLite, ST_Area(g, 1): the same, with SpatiaLite's own ellipsoidal area
              (librttopo's spheroid algorithm). Measured as well because it is what a
              SpatiaLite user would write first, but it is off by up to ~2e-5 relative
              against GeographicLib, so it cannot meet the 1e-6 answer check.
  PostGIS:    ST_Intersects (GiST index) + ST_Intersection, area by
              ST_Area(geography), GeographicLib's algorithm on SRID 4490's spheroid.
  OneMap:     `onemap check sites.geojson --each` (lib/onemap_check.py), once with
              `--layers farmland` (the peers' work) and once in full, every layer with
              a rule (issue 4: at most a third of SpatiaLite's farmland-only time).

Sites come in buckets (lib/sites.py: small, medium, large, corridor, legacy); every
figure is given per bucket and over all sites (issue 20): per-site median and p90 (p90 for
the Python peers only: `onemap check --each` prints the median and mean of what it checked,
so OneMap runs one process over all sites and one per bucket), the parcels touched, the
ratios, and the answers compared with PostGIS's on that bucket's sites.

Engines alternate pass by pass (after one untimed warm-up pass each), so drift on a
shared machine hits all alike. Timing is wall time per site around the query and
its fetch, as a client would see it (PostGIS includes the Unix-socket round trip);
OneMap times its own checks, in a process that is up, as the peers' is.

Writes, under --results:
  conflict_farmland_{spatialite,spatialite_rttopo,postgis,onemap,onemap_full}.json:
      per-site farmland answers {"sites": {"S001": [{"id": BSM, "overlapAreaM2": a}, ...]}},
      ids sorted (OneMap's full check: its farmland layer);
  conflict_full_onemap.json: OneMap's full results, by site;
  conflict_farmland.json: timings, and every engine's answers compared with PostGIS's, over
      all sites and per bucket ("groups").

Needs Debian's /usr/bin/python3 (sqlite3 that loads mod_spatialite, python3-psycopg2).
"""
import argparse
import json
import math
import os
import sqlite3
import statistics
import sys
import time
from typing import NamedTuple, Optional

from onemap_check import OneMapEngine

MIN_AREA_M2 = 0.01      # issue 4: overlap over 0.01 m^2 is a conflict
REL_TOL = 1e-6          # issue 9: areas within 1e-6 relative ...
# ... except for slivers: a 0.05 m^2 sliver 400 m long is 0.1 mm wide, and the last
# bits of its lon/lat coordinates alone move its area by more than 1e-6 relative. So
# an area also agrees when it is within ABS_TOL_M2 (1 cm^2); the strict count is
# reported too.
ABS_TOL_M2 = 1e-4
# Lambert azimuthal equal-area on GRS80, centred on Lishui (bbox 118.8-120.4 E, 27.5-28.9 N).
LONLAT_GRS80 = "+proj=longlat +ellps=GRS80 +no_defs +type=crs"
LAEA_LISHUI = "+proj=laea +lat_0=28.2 +lon_0=119.6 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs +type=crs"


def polygon_wkt(rings):
    return "(" + ",".join("(" + ",".join(f"{x!r} {y!r}" for x, y in ring) + ")" for ring in rings) + ")"


def load_sites(path):
    """[(site id, bucket, WKT)] in the file's order; coordinates as written (repr keeps every bit)."""
    with open(path) as f:
        fc = json.load(f)
    sites = []
    for feat in fc["features"]:
        g = feat["geometry"]
        if g["type"] == "Polygon":
            wkt = "POLYGON" + polygon_wkt(g["coordinates"])
        elif g["type"] == "MultiPolygon":
            wkt = "MULTIPOLYGON(" + ",".join(polygon_wkt(p) for p in g["coordinates"]) + ")"
        else:
            sys.exit(f"conflict_peers.py: site {feat['properties']['site']} is a {g['type']}, not a (Multi)Polygon")
        sites.append((feat["properties"]["site"], feat["properties"].get("bucket", "all"), wkt))
    return sites


def write_groups(path, sites, work):
    """OneMap's sites files: every site (the file itself), then one FeatureCollection per bucket in
    WORK, the features copied as they are, so every process checks exactly the peers' polygons.
    Returns [(group, path, site ids)], "all" first."""
    with open(path) as f:
        fc = json.load(f)
    groups = [("all", path, [s for s, _, _ in sites])]
    for bucket in buckets_of(sites):
        feats = [x for x in fc["features"] if x["properties"].get("bucket", "all") == bucket]
        out = os.path.join(work, f"sites_{bucket}.geojson")
        with open(out, "w") as f:
            json.dump({"type": "FeatureCollection", "name": f"bench_sites_{bucket}", "features": feats}, f,
                      ensure_ascii=False)
        groups.append((bucket, out, [x["properties"]["site"] for x in feats]))
    return groups


def buckets_of(sites):
    """The buckets in the order they first appear (sites.py writes them grouped)."""
    seen = []
    for _, b, _ in sites:
        if b != "all" and b not in seen:
            seen.append(b)
    return seen


def p90(xs):
    """Nearest rank: the smallest time that 90% of the sites are at or under."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(0.9 * len(xs)) - 1)]


class SpatiaLiteEngine:
    name = "spatialite"
    label = "SpatiaLite SQL (SpatialIndex, equal-area ST_Transform)"
    # Planar area in the equal-area projection; see the module's doc.
    area_sql = "ST_Area(ST_Transform(ST_Intersection(f.geom, :g), 0, NULL, :lonlat, :laea))"

    def __init__(self, path, table):
        self.con = sqlite3.connect(path)
        self.con.enable_load_extension(True)
        self.con.load_extension("mod_spatialite")
        self.table = table
        self.sql = f"""
            SELECT f.bsm, {self.area_sql}
            FROM "{table}" AS f
            WHERE f.ROWID IN (SELECT ROWID FROM SpatialIndex
                              WHERE f_table_name = '{table}' AND f_geometry_column = 'geom'
                                AND search_frame = :g)
              AND ST_Intersects(f.geom, :g) = 1"""

    def version(self):
        return "SpatiaLite %s, GEOS %s, RTTOPO %s" % self.con.execute(
            "SELECT spatialite_version(), geos_version(), rttopo_version()").fetchone()

    def count(self):
        return self.con.execute(f'SELECT COUNT(*) FROM "{self.table}"').fetchone()[0]

    def check(self, wkt):
        g = self.con.execute("SELECT GeomFromText(?, 4490)", (wkt,)).fetchone()[0]
        return self.con.execute(self.sql, {"g": g, "lonlat": LONLAT_GRS80, "laea": LAEA_LISHUI}).fetchall()


class SpatiaLiteRttopoEngine(SpatiaLiteEngine):
    name = "spatialite_rttopo"
    label = "SpatiaLite SQL (SpatialIndex, ST_Area(g, 1))"
    area_sql = "ST_Area(ST_Intersection(f.geom, :g), 1)"


class PostGISEngine:
    name = "postgis"
    label = "PostGIS (GiST)"

    def __init__(self, dsn, table):
        import psycopg2  # Debian's python3-psycopg2
        self.con = psycopg2.connect(dsn)
        self.con.autocommit = True
        self.cur = self.con.cursor()
        self.table = table
        self.sql = f"""
            SELECT f.bsm, ST_Area(ST_Intersection(f.geom, s.g)::geography)
            FROM "{table}" AS f, (SELECT ST_GeomFromText(%s, 4490) AS g) AS s
            WHERE ST_Intersects(f.geom, s.g)"""

    def version(self):
        self.cur.execute("SELECT split_part(version(), ' on ', 1), postgis_full_version()")
        pg, full = self.cur.fetchone()
        return f"{pg}; {full.split(' PROJ=')[0]}"

    def count(self):
        self.cur.execute(f'SELECT COUNT(*) FROM "{self.table}"')
        return self.cur.fetchone()[0]

    def check(self, wkt):
        self.cur.execute(self.sql, (wkt,))
        return self.cur.fetchall()


def answers_of(rows):
    """The conflicts: parcels overlapping by more than 0.01 m^2, sorted by id."""
    return sorted(({"id": i, "overlapAreaM2": a} for i, a in rows if a is not None and a > MIN_AREA_M2),
                  key=lambda r: r["id"])


class Pass(NamedTuple):
    mean_ms: float            # mean over the sites: what the table shows, for every engine
    median_ms: float          # median over the sites
    site_times: Optional[list]  # per site, when timed from here (the Python peers)
    answers: dict             # per site, what must not change from pass to pass
    farmland: dict            # per site, the farmland conflicts in the shape the files share
    groups: dict              # per group ("all" and each bucket): mean_ms, median_ms, p90_ms (None for OneMap)


def timed_pass(engine, sites):
    """One pass over all sites. OneMap runs its own processes (all sites, then each bucket) and
    times itself; it prints the median and mean of what it checked, not each site's time."""
    if isinstance(engine, OneMapEngine):
        times, results = engine.run_pass()
        engine.last_results = results
        groups = {g: {"mean_ms": mean, "median_ms": med, "p90_ms": None} for g, (mean, med) in times.items()}
        return Pass(times["all"][0], times["all"][1], None, engine.answers(results), engine.farmland(results), groups)
    times, answers = [], {}
    for site_id, _bucket, wkt in sites:
        t0 = time.perf_counter()
        rows = engine.check(wkt)
        times.append((time.perf_counter() - t0) * 1000)
        answers[site_id] = answers_of(rows)
    groups = {}
    for g in ["all"] + buckets_of(sites):
        ts = [t for t, (_, b, _) in zip(times, sites) if g in ("all", b)]
        groups[g] = {"mean_ms": statistics.mean(ts), "median_ms": statistics.median(ts), "p90_ms": p90(ts)}
    return Pass(statistics.mean(times), statistics.median(times), times, answers, answers, groups)


def compare(a, b):
    """Equal id sets per site, and areas within REL_TOL relative (or ABS_TOL_M2 for slivers)."""
    id_mismatch, area_mismatch, strict, max_rel, max_abs = [], [], 0, 0.0, 0.0
    pairs = 0
    for site in a:
        ia = {r["id"]: r["overlapAreaM2"] for r in a[site]}
        ib = {r["id"]: r["overlapAreaM2"] for r in b.get(site, [])}
        if set(ia) != set(ib):
            id_mismatch.append({"site": site, "only_first": sorted(set(ia) - set(ib)),
                                "only_second": sorted(set(ib) - set(ia))})
        for i in sorted(set(ia) & set(ib)):
            pairs += 1
            diff = abs(ia[i] - ib[i])
            rel = diff / max(abs(ib[i]), 1e-300)
            max_rel, max_abs = max(max_rel, rel), max(max_abs, diff)
            strict += rel > REL_TOL
            if rel > REL_TOL and diff > ABS_TOL_M2:
                area_mismatch.append({"site": site, "id": i, "first": ia[i], "second": ib[i], "rel": rel})
    return {"equal": not id_mismatch and not area_mismatch, "pairs": pairs, "id_mismatches": id_mismatch,
            "area_mismatches": area_mismatch[:50], "area_mismatch_count": len(area_mismatch),
            "strict_rel_mismatch_count": strict, "max_rel_area_diff": max_rel, "max_abs_area_diff_m2": max_abs}


def make_engines(a, sites):
    """The peers, and OneMap twice: farmland only (the peers' work) and the full check."""
    groups = write_groups(a.sites, sites, a.work)
    onemap = lambda name, label, layers: OneMapEngine(name, label, a.onemap, a.onemap_db, groups, a.work, layers)
    # Listed so that neighbours differ in kind; passes alternate forwards and backwards.
    return [SpatiaLiteEngine(a.spatialite, a.table),
            onemap("onemap", "OneMap, farmland only (check --each --layers farmland)", [a.table]),
            PostGISEngine(a.pg, a.table),
            onemap("onemap_full", "OneMap, full check of every layer (check --each)", None),
            SpatiaLiteRttopoEngine(a.spatialite, a.table)]


def measure(engines, sites, runs):
    """One untimed warm-up pass each, then `runs` timed passes, alternating engine order."""
    warm = {e.name: timed_pass(e, sites).answers for e in engines}
    passes = {e.name: [] for e in engines}
    for p in range(runs):
        for e in (engines if p % 2 == 0 else engines[::-1]):
            ps = timed_pass(e, sites)
            passes[e.name].append(ps)
            print(f"  pass {p + 1}: {e.label}: {ps.mean_ms:.3f} ms/site (median {ps.median_ms:.3f}); median by bucket "
                  + ", ".join(f"{g} {x['median_ms']:.2f}" for g, x in ps.groups.items() if g != "all"), file=sys.stderr)
    for e in engines:
        if any(ps.answers != warm[e.name] for ps in passes[e.name]):
            sys.exit(f"conflict_peers.py: {e.label} gave different answers on different passes")
    return passes


def layer_summary(results):
    """Full check: per layer, how many sites conflict and how many features are involved."""
    out = {}
    for r in results:
        for l in r["layers"]:
            s = out.setdefault(l["layer"], {"title": l["title"], "sites_in_conflict": 0, "features": 0})
            s["sites_in_conflict"] += bool(l["conflict"])
            s["features"] += len(l["features"])
    verdicts = {}
    for r in results:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    return {"layers": out, "verdicts": verdicts}


def engine_summary(e, passes):
    farmland = passes[-1].farmland
    s = {"label": e.label, "version": e.version(),
         "ms_per_site_by_pass": [p.mean_ms for p in passes],
         "median_ms_per_site": statistics.median(p.mean_ms for p in passes),
         "site_median_ms_by_pass": [p.median_ms for p in passes],
         "median_site_median_ms": statistics.median(p.median_ms for p in passes),
         "sites_with_conflict": sum(1 for x in farmland.values() if x),
         "conflict_features": sum(len(x) for x in farmland.values()),
         # Per group: the median over passes of each pass's median (p90, mean) over the group's sites.
         "groups": {g: {k: (statistics.median(p.groups[g][k] for p in passes)
                            if passes[0].groups[g][k] is not None else None)
                        for k in ("median_ms", "p90_ms", "mean_ms")}
                    for g in passes[0].groups}}
    if passes[0].site_times is not None:
        all_sites = sorted(x for p in passes for x in p.site_times)
        s["site_p50_ms"] = statistics.median(all_sites)
        s["site_p99_ms"] = all_sites[min(len(all_sites) - 1, int(0.99 * len(all_sites)))]
    if isinstance(e, OneMapEngine):
        s["command"] = " ".join(os.path.basename(x) if x == e.binary else x for x in e.command())
        s["processes_per_pass"] = [g for g, _, _ in e.groups]
        s["wall_s_by_pass"] = e.wall_s[1:]  # without the warm-up process
        if e.full:
            s.update(layer_summary(e.last_results))
    return s


def group_summary(sites_path, sites, engines, farmland):
    """Issue 20: per bucket and overall, the sites (sizes, vertices, holes, parts), the farmland
    parcels they touch (PostGIS's answers: overlap over 0.01 m^2), the ratios on the medians,
    and every comparison of COMPARISONS on that bucket's sites alone."""
    with open(sites_path) as f:
        props = {x["properties"]["site"]: x["properties"] for x in json.load(f)["features"]}
    out = {}
    for g in ["all"] + buckets_of(sites):
        ids = [s for s, b, _ in sites if g in ("all", b)]
        touched = [len(farmland["postgis"][s]) for s in ids]
        med = {name: e["groups"][g]["median_ms"] for name, e in engines.items()}
        ps = [props[s] for s in ids]
        out[g] = {"sites": len(ids), "parcels_touched_median": statistics.median(touched),
                  "parcels_touched_max": max(touched),
                  "area_ha": [min(p.get("area_ha", 0) for p in ps), max(p.get("area_ha", 0) for p in ps)],
                  "vertices": [min(p.get("vertices", 0) for p in ps), max(p.get("vertices", 0) for p in ps)],
                  "with_holes": sum(1 for p in ps if p.get("holes")),
                  "in_parts": sum(1 for p in ps if p.get("parts", 1) > 1),
                  "ratios": {"spatialite_over_onemap_full": med["spatialite"] / med["onemap_full"],
                             "postgis_over_onemap_full": med["postgis"] / med["onemap_full"],
                             "spatialite_over_onemap": med["spatialite"] / med["onemap"]}}
        for key, first, second in COMPARISONS:
            out[g][key] = compare({s: farmland[first][s] for s in ids}, {s: farmland[second][s] for s in ids})
    return out


def write_answers(a, e, farmland):
    with open(os.path.join(a.results, f"conflict_farmland_{e.name}.json"), "w") as f:
        json.dump({"engine": e.label, "version": e.version(), "scale": a.scale,
                   "area": "ellipsoidal m^2 on the SRID 4490 (CGCS2000/GRS80) ellipsoid",
                   "rule": f"parcels whose overlap with the site is over {MIN_AREA_M2} m^2",
                   "sites": farmland}, f, ensure_ascii=False, indent=1)


# Every answer set against PostGIS (GeographicLib areas); OneMap's two runs against each other.
COMPARISONS = [("spatialite_vs_postgis", "spatialite", "postgis"),
               ("spatialite_rttopo_vs_postgis", "spatialite_rttopo", "postgis"),
               ("onemap_vs_postgis", "onemap", "postgis"),
               ("onemap_full_vs_postgis", "onemap_full", "postgis"),
               ("onemap_full_vs_onemap", "onemap_full", "onemap")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", required=True)
    ap.add_argument("--spatialite", required=True, help="SpatiaLite database with table farmland(geom)")
    ap.add_argument("--pg", required=True, help="libpq DSN of the PostGIS database with table farmland(geom)")
    ap.add_argument("--onemap", required=True, help="the onemap binary")
    ap.add_argument("--onemap-db", required=True, help="OneMap database with the catalog's layers loaded")
    ap.add_argument("--table", default="farmland")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results", required=True)
    ap.add_argument("--work", required=True, help="scratch folder for OneMap's outputs and logs")
    ap.add_argument("--scale", type=int, required=True)
    a = ap.parse_args()

    sites = load_sites(a.sites)
    engines = make_engines(a, sites)
    counts = {e.name: e.count() for e in engines}
    if len(set(counts.values())) != 1:
        sys.exit(f"conflict_peers.py: the engines hold different farmland counts: {counts}")
    try:
        passes = measure(engines, sites, a.runs)
    except RuntimeError as err:   # OneMap failed: name it, with its log
        sys.exit(f"conflict_peers.py: {err}")

    os.makedirs(a.results, exist_ok=True)
    summary = {"scale": a.scale, "sites": len(sites), "runs": a.runs, "features": counts["spatialite"],
               "min_area_m2": MIN_AREA_M2, "rel_tol": REL_TOL, "abs_tol_m2": ABS_TOL_M2, "engines": {}}
    farmland = {e.name: passes[e.name][-1].farmland for e in engines}
    for e in engines:
        summary["engines"][e.name] = engine_summary(e, passes[e.name])
        write_answers(a, e, farmland[e.name])
    full = next(e for e in engines if e.name == "onemap_full")
    with open(os.path.join(a.results, "conflict_full_onemap.json"), "w") as f:
        json.dump(dict(zip(full.site_ids, full.last_results)), f, ensure_ascii=False, indent=1)
    for key, first, second in COMPARISONS:
        summary[key] = compare(farmland[first], farmland[second])
    summary["groups"] = group_summary(a.sites, sites, summary["engines"], farmland)
    with open(os.path.join(a.results, "conflict_farmland.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for g, x in summary["groups"].items():
        print(f"  {g}: {x['sites']} sites, median {x['parcels_touched_median']:g} parcels touched; median ms "
              + ", ".join(f"{n} {summary['engines'][n]['groups'][g]['median_ms']:.2f}" for n in summary["engines"])
              + f"; SpatiaLite / OneMap full {x['ratios']['spatialite_over_onemap_full']:.2f}x; "
              + "answers vs PostGIS " + ", ".join(f"{k.split('_vs_')[0]} {x[k]['equal']}" for k, _, s in COMPARISONS
                                                 if s == "postgis"), file=sys.stderr)
    for key, _, _ in COMPARISONS:
        c = summary[key]
        print(f"  {key}: equal {c['equal']} (id mismatches {len(c['id_mismatches'])}, area mismatches "
              f"{c['area_mismatch_count']}, strict 1e-6 {c['strict_rel_mismatch_count']}/{c['pairs']}, "
              f"max rel {c['max_rel_area_diff']:.2e}, max abs {c['max_abs_area_diff_m2']:.2e} m^2)", file=sys.stderr)


if __name__ == "__main__":
    main()
