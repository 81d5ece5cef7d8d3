#!/usr/bin/env python3
"""The ledger by county (一本账) and the farmland x red-line audit (三线矛盾图斑): OneMap's
CLI against the equivalent PostGIS SQL, on the same layers, alternating (issue 8).

  ledger  OneMap: `onemap ledger --by county --format json` (every layer), and
          `--layers farmland` alone; wall time of the process.
          PostGIS, "overlap once" (the answer OneMap must give, timed as the peer): per layer,
            county by county (LATERAL), pieces = every feature meeting the county
            (ST_Intersects, GiST), the feature itself
            when the county ST_Covers it, else ST_Intersection with it; a piece counts when
            its ST_Area(geography) is over 0.01 m² (lines: when they meet the county, area 0);
            pieces of the same county whose interiors meet (ST_Relate '2********') are
            grouped by ST_ClusterIntersecting and counted once, as the area of their union.
            count = pieces per county; area = sum of lone pieces + union area of each group;
            totals: distinct features, sum of the counties' areas.
          PostGIS, naive (issue 8's anchor, farmland only): ST_Intersection of every parcel
            with its county, ST_Area(geography), summed per county; it counts overlaps twice
            and parcels of any area, so only its time is compared (and how far it is off).
          Answers: per county and layer, and the totals: counts equal, areas within 1e-6
          relative (or 1e-4 m²).
  audit   OneMap: `onemap audit --pairs farmland:ecological_redline --min-area 0.01
          --format json --out F`, wall time (its own "N pairs in X s" is kept too), and the
          same with --format csv (the rows PostGIS returns: writing the JSON costs more than
          finding the pairs).
          PostGIS: ST_Intersects (GiST) join of farmland and ecological_redline,
          ST_Area(ST_Intersection(a, b)::geography) > 0.01; the county of each pair (the
          county containing the centre of the overlap's box, as OneMap assigns it) comes from
          a second, untimed query. Answers: the (BSM, BSM) pair sets equal, areas within 1e-6
          relative (or 1e-4 m²), and counties equal.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REL_TOL = 1e-6
ABS_TOL_M2 = 1e-4
MIN_AREA_M2 = 0.01


def pg_connect(dsn):
    import psycopg2
    con = psycopg2.connect(dsn)
    con.autocommit = True
    return con


def area_ok(a, b):
    d = abs(a - b)
    return d <= ABS_TOL_M2 or d <= REL_TOL * max(abs(a), abs(b))


def rel(a, b):
    m = max(abs(a), abs(b))
    return abs(a - b) / m if m else 0.0


# ---------------------------------------------------------------- ledger

def pg_layer_kind(cur, table):
    cur.execute("SELECT type FROM geometry_columns WHERE f_table_name = %s", (table,))
    t = cur.fetchone()[0].upper()
    return "line" if "LINE" in t else "polygon"


def pg_ledger_layer(cur, table, kind):
    """One layer's figures per county, overlaps counted once. Returns {code: (count, area)}, fids."""
    cur.execute("DROP TABLE IF EXISTS pieces")
    # County by county (LATERAL, OFFSET 0 keeps the planner from turning it around): each
    # county's geometry stays the same from row to row, so PostGIS prepares it once for
    # ST_Intersects and ST_Covers and detoasts it once. Joined the other way round, as the
    # planner picks for a plain join, the same query takes four times as long at 500k.
    counties = f"""
        FROM (SELECT xzqdm, geom FROM admin WHERE level = 'county') c
        CROSS JOIN LATERAL (SELECT fid, geom FROM "{table}" f
                            WHERE f.geom && c.geom AND ST_Intersects(c.geom, f.geom) OFFSET 0) f"""
    if kind == "line":
        cur.execute(f"""
            CREATE TEMP TABLE pieces AS
            SELECT c.xzqdm AS unit, f.fid, 0.0::float8 AS area {counties}""")
    else:
        cur.execute(f"""
            CREATE TEMP TABLE pieces AS
            SELECT unit, fid, g, ST_Area(g::geography) AS area FROM (
              SELECT c.xzqdm AS unit, f.fid,
                     CASE WHEN ST_Covers(c.geom, f.geom) THEN f.geom
                          ELSE ST_CollectionExtract(ST_Intersection(f.geom, c.geom), 3) END AS g
              {counties}) s""")
        cur.execute(f"DELETE FROM pieces WHERE area <= {MIN_AREA_M2}")
        cur.execute("CREATE INDEX ON pieces USING gist (g)")
        cur.execute("ANALYZE pieces")
        # Pieces whose interiors meet another piece of the same county.
        cur.execute("DROP TABLE IF EXISTS overlapping")
        cur.execute("""
            CREATE TEMP TABLE overlapping AS
            SELECT DISTINCT unit, fid FROM (
              SELECT a.unit, unnest(ARRAY[a.fid, b.fid]) AS fid
              FROM pieces a JOIN pieces b ON a.unit = b.unit AND a.fid < b.fid AND a.g && b.g
                                         AND ST_Relate(a.g, b.g, '2********')) s""")
    cur.execute("SELECT unit, COUNT(*), SUM(area) FROM pieces GROUP BY unit")
    counts = {u: [n, 0.0] for u, n, _ in cur.fetchall()}
    if kind == "polygon":
        cur.execute("""
            SELECT p.unit, SUM(p.area) FROM pieces p
            WHERE NOT EXISTS (SELECT 1 FROM overlapping o WHERE o.unit = p.unit AND o.fid = p.fid)
            GROUP BY p.unit""")
        for u, a in cur.fetchall():
            counts[u][1] += a
        cur.execute("""
            SELECT unit, ST_Area(ST_UnaryUnion(gc)::geography) FROM (
              SELECT p.unit, unnest(ST_ClusterIntersecting(p.g)) AS gc
              FROM pieces p JOIN overlapping o ON o.unit = p.unit AND o.fid = p.fid
              GROUP BY p.unit) s""")
        for u, a in cur.fetchall():
            counts[u][1] += a
    cur.execute("SELECT COUNT(DISTINCT fid) FROM pieces")
    distinct = cur.fetchone()[0]
    return counts, distinct


def pg_ledger(con, layers):
    cur = con.cursor()
    out, secs = {}, {}
    for table in layers:
        t0 = time.perf_counter()
        kind = pg_layer_kind(cur, table)
        counts, distinct = pg_ledger_layer(cur, table, kind)
        secs[table] = time.perf_counter() - t0
        out[table] = {"units": counts, "total_count": distinct}
    return out, secs


def pg_naive(con):
    cur = con.cursor()
    t0 = time.perf_counter()
    cur.execute("""
        SELECT c.xzqdm, COUNT(*), SUM(ST_Area(ST_Intersection(f.geom, c.geom)::geography))
        FROM farmland f JOIN admin c ON c.level = 'county' AND ST_Intersects(f.geom, c.geom)
        GROUP BY c.xzqdm""")
    rows = cur.fetchall()
    return {u: [n, a] for u, n, a in rows}, time.perf_counter() - t0


def onemap_ledger(onemap, db, layers=None):
    cmd = [onemap, "ledger", "--by", "county", "--format", "json", "--db", db]
    if layers:
        cmd += ["--layers", layers]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"OneMap: {' '.join(cmd)} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout), secs


def compare_ledger(om, pg, layers):
    mism, n, worst_rel = [], 0, 0.0
    units = {u["code"]: u for u in om["units"]}
    for layer in layers:
        p = pg[layer]
        codes = set(units) | set(p["units"])
        for code in sorted(codes):
            o = units.get(code, {}).get("layers", {}).get(layer, {"count": 0, "areaM2": 0.0})
            q = p["units"].get(code, [0, 0.0])
            n += 1
            worst_rel = max(worst_rel, rel(o["areaM2"], q[1]))
            if o["count"] != q[0] or not area_ok(o["areaM2"], q[1]):
                mism.append({"layer": layer, "unit": code, "onemap": [o["count"], o["areaM2"]], "postgis": q})
        t = om["totals"].get(layer, {"count": 0, "areaM2": 0.0})
        pa = sum(v[1] for v in p["units"].values())
        n += 1
        worst_rel = max(worst_rel, rel(t["areaM2"], pa))
        if t["count"] != p["total_count"] or not area_ok(t["areaM2"], pa):
            mism.append({"layer": layer, "unit": "total", "onemap": [t["count"], t["areaM2"]], "postgis": [p["total_count"], pa]})
    return {"equal": not mism, "compared": n, "mismatches": mism, "max_rel_area_diff": worst_rel}


def cmd_ledger(a):
    con = pg_connect(a.pg)
    layers = a.layers.split(",")
    t = {"onemap": [], "onemap_farmland": [], "postgis": [], "postgis_farmland": [], "postgis_naive": []}
    om = om_f = pg = naive = None
    for run in range(1, a.runs + 1):
        steps = ["onemap", "postgis", "naive"]
        steps = steps[run % 3:] + steps[:run % 3]
        for s in steps:
            if s == "onemap":
                om, secs = onemap_ledger(a.onemap, a.onemap_db)
                t["onemap"].append(secs)
                om_f, secs = onemap_ledger(a.onemap, a.onemap_db, "farmland")
                t["onemap_farmland"].append(secs)
            elif s == "postgis":
                pg, secs = pg_ledger(con, layers)
                t["postgis"].append(sum(secs.values()))
                t["postgis_farmland"].append(secs["farmland"])
            elif run <= a.naive_runs:
                naive, secs = pg_naive(con)
                t["postgis_naive"].append(secs)
        print(f"  run {run}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in t.items() if v), file=sys.stderr)
    med = {k: statistics.median(v) for k, v in t.items() if v}
    check = compare_ledger(om, pg, layers)
    check_f = compare_ledger(om_f, {"farmland": pg["farmland"]}, ["farmland"])
    naive_total = sum(v[1] for v in naive.values())
    naive_count = sum(v[0] for v in naive.values())
    om_total = om["totals"]["farmland"]["areaM2"]
    out = {"runs": a.runs, "naive_runs": len(t["postgis_naive"]), "seconds": t, "median_s": med, "layers": layers,
           "check": check, "check_farmland_only": check_f,
           "naive": {"area_m2": naive_total, "pieces": naive_count, "rel_diff_from_onemap": rel(naive_total, om_total)},
           "onemap_farmland_total": om["totals"]["farmland"],
           "ratio_naive": med["postgis_naive"] / med["onemap_farmland"],
           "ratio_once_farmland": med["postgis_farmland"] / med["onemap_farmland"],
           "ratio_once_all": med["postgis"] / med["onemap"]}
    with open(os.path.join(a.results, "ledger.json"), "w") as f:
        json.dump(out, f, indent=1)
    with open(os.path.join(a.results, "ledger_onemap.json"), "w") as f:
        json.dump(om, f, ensure_ascii=False)


# ---------------------------------------------------------------- audit

AUDIT_SQL = f"""
    SELECT f.bsm, r.bsm, a FROM (
      SELECT f.fid AS ff, r.fid AS rf, ST_Area(ST_Intersection(f.geom, r.geom)::geography) AS a
      FROM farmland f JOIN ecological_redline r ON ST_Intersects(f.geom, r.geom)) s
    JOIN farmland f ON f.fid = s.ff JOIN ecological_redline r ON r.fid = s.rf
    WHERE a > {MIN_AREA_M2}"""

COUNTY_SQL = f"""
    SELECT f.bsm, r.bsm,
           (SELECT c.xzqdm FROM admin c WHERE c.level = 'county'
              AND ST_Intersects(c.geom, ST_Centroid(ST_Envelope(s.g))) ORDER BY c.xzqdm LIMIT 1)
    FROM (SELECT f.fid AS ff, r.fid AS rf, ST_CollectionExtract(ST_Intersection(f.geom, r.geom), 3) AS g
          FROM farmland f JOIN ecological_redline r ON ST_Intersects(f.geom, r.geom)) s
    JOIN farmland f ON f.fid = s.ff JOIN ecological_redline r ON r.fid = s.rf
    WHERE ST_Area(s.g::geography) > {MIN_AREA_M2}"""


def onemap_audit(onemap, db, out, fmt="json"):
    cmd = [onemap, "audit", "--pairs", "farmland:ecological_redline", "--min-area", str(MIN_AREA_M2),
           "--format", fmt, "--out", out, "--db", db]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"OneMap: {' '.join(cmd)} failed: {p.stderr[-2000:]}")
    internal = None
    for line in p.stderr.splitlines():
        if " pairs in " in line:
            internal = float(line.split(" pairs in ")[1].split()[0])
    if fmt != "json":
        return None, secs, internal
    with open(out) as f:
        return json.load(f), secs, internal


def cmd_audit(a):
    con = pg_connect(a.pg)
    cur = con.cursor()
    t = {"onemap": [], "onemap_csv": [], "onemap_internal": [], "postgis": []}
    om = pg = None
    out = os.path.join(a.work, "audit_onemap.json")
    for run in range(1, a.runs + 1):
        for s in (["onemap", "postgis"] if run % 2 else ["postgis", "onemap"]):
            if s == "onemap":
                om, secs, internal = onemap_audit(a.onemap, a.onemap_db, out)
                t["onemap"].append(secs)
                t["onemap_internal"].append(internal)
                # The same pairs as CSV: the rows PostGIS returns, without JSON's cost.
                _, secs, _ = onemap_audit(a.onemap, a.onemap_db, out + ".csv", "csv")
                t["onemap_csv"].append(secs)
            else:
                t0 = time.perf_counter()
                cur.execute(AUDIT_SQL)
                pg = cur.fetchall()
                t["postgis"].append(time.perf_counter() - t0)
        print(f"  run {run}: OneMap {t['onemap'][-1]:.2f} s, as CSV {t['onemap_csv'][-1]:.2f} s "
              f"(its own {t['onemap_internal'][-1]} s), "
              f"PostGIS {t['postgis'][-1]:.2f} s", file=sys.stderr)
    cur.execute(COUNTY_SQL)
    pg_county = {(x, y): c for x, y, c in cur.fetchall()}
    om_pairs = {(p["aId"], p["bId"]): p for p in om["pairs"]}
    pg_pairs = {(x, y): ar for x, y, ar in pg}
    only_om = sorted(set(om_pairs) - set(pg_pairs))
    only_pg = sorted(set(pg_pairs) - set(om_pairs))
    common = set(om_pairs) & set(pg_pairs)
    off = [(k, om_pairs[k]["overlapAreaM2"], pg_pairs[k]) for k in sorted(common)
           if not area_ok(om_pairs[k]["overlapAreaM2"], pg_pairs[k])]
    strict = sum(1 for k in common if rel(om_pairs[k]["overlapAreaM2"], pg_pairs[k]) > REL_TOL)
    county_off = [(k, om_pairs[k].get("county"), pg_county.get(k)) for k in sorted(common)
                  if om_pairs[k].get("county") != pg_county.get(k)]
    med = {k: statistics.median(v) for k, v in t.items() if v and None not in v}
    res = {"runs": a.runs, "seconds": t, "median_s": med,
           "pairs": {"onemap": len(om_pairs), "postgis": len(pg_pairs)},
           "only_onemap": [list(k) + [om_pairs[k]["overlapAreaM2"]] for k in only_om[:20]], "only_onemap_count": len(only_om),
           "only_postgis": [list(k) + [pg_pairs[k]] for k in only_pg[:20]], "only_postgis_count": len(only_pg),
           "area_mismatches": [[*k, x, y] for k, x, y in off[:20]], "area_mismatch_count": len(off),
           "strict_rel_mismatch_count": strict,
           "max_rel_area_diff": max((rel(om_pairs[k]["overlapAreaM2"], pg_pairs[k]) for k in common), default=0),
           "max_abs_area_diff_m2": max((abs(om_pairs[k]["overlapAreaM2"] - pg_pairs[k]) for k in common), default=0),
           "county_mismatches": [[*k, x, y] for k, x, y in county_off[:20]], "county_mismatch_count": len(county_off),
           "total_area_m2": {"onemap": sum(p["overlapAreaM2"] for p in om["pairs"]), "postgis": sum(pg_pairs.values())},
           "ratio": med["postgis"] / med["onemap"], "ratio_csv": med["postgis"] / med["onemap_csv"],
           "ratio_internal": med["postgis"] / med["onemap_internal"] if "onemap_internal" in med else None}
    res["equal"] = not only_om and not only_pg and not off
    with open(os.path.join(a.results, "audit.json"), "w") as f:
        json.dump(res, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ledger", "audit"):
        p = sub.add_parser(name)
        p.add_argument("--pg", required=True)
        p.add_argument("--onemap", required=True)
        p.add_argument("--onemap-db", required=True)
        p.add_argument("--runs", type=int, default=3)
        p.add_argument("--results", required=True)
        p.add_argument("--work", required=True)
        if name == "ledger":
            p.add_argument("--layers", required=True, help="the PostGIS tables = OneMap layers, comma-separated")
            p.add_argument("--naive-runs", type=int, default=1)
    a = ap.parse_args()
    {"ledger": cmd_ledger, "audit": cmd_audit}[a.cmd](a)


if __name__ == "__main__":
    main()
