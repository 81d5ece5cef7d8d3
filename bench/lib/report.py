#!/usr/bin/python3
"""Turn one run's results into the markdown table issue 9 asks for.

Reads RESULTS/import_runs.tsv, import_answers.json, import_onemap.json and
conflict_farmland.json (each optional: a row appears for what was measured),
and prints the report: date, machine, versions, the table, then the details.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
    return f"{os.cpu_count()} cores (nproc), {mem_kb / 1024 / 1024:.1f} GiB memory, CPU {cpu}, Linux {platform.release()}"


def cmd_version(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except Exception as e:  # a missing tool shows as such in the report, it does not stop it
        return f"unavailable ({e})"


def fmt_s(x):
    return f"{x:.2f} s" if x is not None else "—"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--command", default="bench/run")
    a = ap.parse_args()
    r = a.results

    out = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"# OneMap benchmark: {a.scale:,} farmland parcels")
    out.append("")
    out.append(f"- Date: {now}")
    out.append(f"- Machine: {machine()}")
    out.append(f"- OneMap: commit {a.commit}")
    out.append(f"- Command: `{a.command}`; {a.runs} timed runs per engine, alternating; medians")
    out.append(f"- GDAL: {cmd_version('ogr2ogr', '--version')}")

    rows, details = [], []

    # Import (issue 2).
    tsv = os.path.join(r, "import_runs.tsv")
    if os.path.exists(tsv):
        runs = {}
        with open(tsv) as f:
            for line in f:
                engine, _run, secs, rss = line.split("\t")
                runs.setdefault(engine, []).append((float(secs), int(rss)))
        med = {e: statistics.median(s for s, _ in v) for e, v in runs.items()}
        rss = {e: max(k for _, k in v) / 1024 for e, v in runs.items()}
        ans = read_json(os.path.join(r, "import_answers.json"))
        rep = read_json(os.path.join(r, "import_onemap.json")) or {}
        ratio = med["ogr2ogr"] / med["onemap"]
        if ans:
            verdict = (f"count {'✓' if ans['count_equal'] else '✗'} ({ans['onemap']['count']:,} vs {ans['ogr2ogr']['count']:,}); "
                       f"area Δ {ans['rel_area_diff']:.1e} {'✓' if ans['area_equal'] else '✗'} "
                       f"(peer leaves {ans['ogr2ogr']['invalid']} invalid parcels unrepaired); "
                       f"Δ {ans['rel_area_diff_after_makevalid']:.1e} {'✓' if ans['area_equal_after_makevalid'] else '✗'} "
                       f"against the peer's area after MakeValid")
        else:
            verdict = "not checked"
        rows.append([f"import {a.scale:,} farmland parcels (GeoPackage, EPSG:4528 → 4490)",
                     fmt_s(med["onemap"]), fmt_s(med["ogr2ogr"]) + " (ogr2ogr)", "—",
                     f"{ratio:.2f}× (ogr2ogr ÷ OneMap)", verdict])
        rows.append(["import peak RSS", f"{rss['onemap']:.0f} MiB", f"{rss['ogr2ogr']:.0f} MiB (ogr2ogr)", "—",
                     f"{rss['ogr2ogr'] / rss['onemap']:.2f}× (ogr2ogr ÷ OneMap)", "—"])
        details.append("### Import")
        details.append("")
        details.append("OneMap: `onemap import farmland.gpkg --layer farmland --id-field BSM --db fresh.sqlite --json` "
                       "(MakeValid repair, CGCS2000 geodesic areas, R*Tree). Peer: "
                       "`ogr2ogr -f SQLite -dsco SPATIALITE=YES -t_srs EPSG:4490 out.sqlite farmland.gpkg` "
                       "(no repair, no area precompute; it does build SpatiaLite's R*Tree). Each run writes a new file.")
        details.append("")
        for e, v in runs.items():
            details.append(f"- {e}: " + ", ".join(f"{s:.2f} s / {k / 1024:.0f} MiB" for s, k in v))
        if rep:
            details.append(f"- OneMap repaired {rep.get('repaired', '?')} geometries")
        if ans:
            details.append(f"- total area: OneMap {ans['onemap']['area_m2']:.3f} m² (SUM(om_area_m2)); "
                           f"ogr2ogr {ans['ogr2ogr']['area_m2']:.3f} m² (SUM(ST_Area(geom, 1)), unrepaired), "
                           f"{ans['ogr2ogr']['area_m2_after_makevalid']:.3f} m² after MakeValid")
        details.append("")

    # Conflict check, farmland only (issue 4's anchors; OneMap's side comes with issue 4).
    cf = read_json(os.path.join(r, "conflict_farmland.json"))
    if cf:
        sl, pg, rt = (cf["engines"][k] for k in ("spatialite", "postgis", "spatialite_rttopo"))

        def agreement(c):
            return (f"{'✓' if c['equal'] else '✗'} ids differ at {len(c['id_mismatches'])} sites; "
                    f"{c['area_mismatch_count']} of {c['pairs']} areas differ by > {cf['rel_tol']:g} rel and > {cf['abs_tol_m2']:g} m² "
                    f"({c['strict_rel_mismatch_count']} by > {cf['rel_tol']:g} rel alone; max Δ {c['max_rel_area_diff']:.1e} rel, "
                    f"{c['max_abs_area_diff_m2']:.1e} m²)")

        rows.append([f"conflict check, farmland only, per site ({cf['sites']} sites)",
                     "not yet (issue 4)", f"{sl['median_ms_per_site']:.2f} ms", f"{pg['median_ms_per_site']:.2f} ms",
                     "—", "SpatiaLite vs PostGIS " + agreement(cf["spatialite_vs_postgis"])])
        details.append("### Conflict check, farmland only")
        details.append("")
        details.append(f"Per site: the parcels overlapping the site by more than {cf['min_area_m2']:g} m², with the "
                       "ellipsoidal overlap area on CGCS2000 (GRS80). Both peers are loaded from the GeoPackage by "
                       "`ogr2ogr -makevalid` and get the same site polygons (`bench/data/<scale>/sites.geojson`). "
                       "SpatiaLite: `ST_Intersects` + `ST_Intersection`, candidates from the `SpatialIndex` virtual table, "
                       "area = planar `ST_Area` after `ST_Transform` to a Lambert azimuthal equal-area projection on GRS80 "
                       "centred on Lishui (equal-area, so it is the ellipsoidal area to ~1e-7). PostGIS: `ST_Intersects` "
                       "(GiST) + `ST_Intersection`, `ST_Area(geography)` (GeographicLib's algorithm). Time: wall time per "
                       "site as a client sees it (PostGIS over its Unix socket), mean over the sites, median over passes; "
                       "one untimed warm-up pass each. Areas agree when within "
                       f"{cf['rel_tol']:g} relative or, for slivers, {cf['abs_tol_m2']:g} m².")
        details.append("")
        for name, e in (("SpatiaLite", sl), ("PostGIS", pg), ("SpatiaLite with `ST_Area(g, 1)`", rt)):
            details.append(f"- {name} ({e['version']}): " + ", ".join(f"{x:.2f}" for x in e["ms_per_site_by_pass"]) +
                           f" ms/site by pass; per-site p50 {e['site_p50_ms']:.2f} ms, p99 {e['site_p99_ms']:.2f} ms; "
                           f"{e['sites_with_conflict']} sites in conflict, {e['conflict_features']} parcel overlaps")
        details.append(f"- PostGIS ÷ SpatiaLite: {pg['median_ms_per_site'] / sl['median_ms_per_site']:.2f}×")
        details.append("- SpatiaLite's own ellipsoidal `ST_Area(g, 1)` (librttopo) against PostGIS: "
                       + agreement(cf["spatialite_rttopo_vs_postgis"])
                       + ". That is why the SpatiaLite row uses the equal-area transform.")
        details.append(f"- Answers per site, for comparing OneMap's later: `bench/results/{a.scale}/conflict_farmland_"
                       "{spatialite,postgis}.json`")
        details.append("")

    out.append("")
    out.append("| operation | OneMap | SpatiaLite | PostGIS | ratio | answers equal |")
    out.append("|---|---|---|---|---|---|")
    for row in rows:
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.extend(details)
    print("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
