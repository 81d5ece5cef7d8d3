#!/usr/bin/python3
"""Turn one run's results into the markdown table issue 9 asks for.

Reads, from RESULTS, import_runs.tsv, import_answers.json, import_onemap.json (import),
conflict_farmland.json (the conflict check per site, peers and OneMap),
http_wrk.json, http_server.json, http_answers.json (the API under load), tiles.json,
features.json, ledger.json, audit.json, load_wrk.json, load_server.json, load_mix.json, and
landuse_import_runs.tsv, landuse_check.json (issue 23), auth_runs.jsonl, auth_server.json,
auth_verify.json, auth_provider.json, auth_warm.json (issue 25). Each group is
optional: rows appear for what was measured. Prints the report: date, machine,
versions, the table, then the details.
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


def mark(ok):
    return "✓" if ok else "✗"


def ms(x):
    return f"{x:.2f} ms" if x >= 0.1 else f"{x:.3f} ms"


def timed_runs(tsv):
    """bench/run's `timed` lines (engine, run, seconds, peak RSS kB): the runs by engine, and each
    engine's median seconds and largest peak in MiB."""
    runs = {}
    with open(tsv) as f:
        for line in f:
            engine, _run, secs, rss = line.split("\t")
            runs.setdefault(engine, []).append((float(secs), int(rss)))
    med = {e: statistics.median(s for s, _ in v) for e, v in runs.items()}
    rss = {e: max(k for _, k in v) / 1024 for e, v in runs.items()}
    return runs, med, rss


def count(v):
    """A count with thousands separators, or ? when there is none."""
    return f"{v:,}" if isinstance(v, int) else "?"


def run_lines(runs):
    """One detail line per engine: each run's seconds and peak memory."""
    return [f"- {e}: " + ", ".join(f"{s:.2f} s / {k / 1024:.0f} MiB" for s, k in v) for e, v in runs.items()]


def import_section(r, scale):
    """Issue 2: onemap import against ogr2ogr into SpatiaLite."""
    rows, details = [], []
    tsv = os.path.join(r, "import_runs.tsv")
    if not os.path.exists(tsv):
        return rows, details
    runs, med, rss = timed_runs(tsv)
    ans = read_json(os.path.join(r, "import_answers.json"))
    rep = read_json(os.path.join(r, "import_onemap.json")) or {}
    ratio = med["ogr2ogr"] / med["onemap"]
    if ans:
        verdict = (f"count {mark(ans['count_equal'])} ({ans['onemap']['count']:,} vs {ans['ogr2ogr']['count']:,}); "
                   f"area Δ {ans['rel_area_diff']:.1e} {mark(ans['area_equal'])} "
                   f"(peer leaves {ans['ogr2ogr']['invalid']} invalid parcels unrepaired); "
                   f"Δ {ans['rel_area_diff_after_makevalid']:.1e} {mark(ans['area_equal_after_makevalid'])} "
                   f"against the peer's area after MakeValid")
    else:
        verdict = "not checked"
    rows.append([f"import {scale:,} farmland parcels (GeoPackage, EPSG:4528 → 4490)",
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
    details += run_lines(runs)
    if rep:
        details.append(f"- OneMap repaired {rep.get('repaired', '?')} geometries")
    if ans:
        details.append(f"- total area: OneMap {ans['onemap']['area_m2']:.3f} m² (SUM(om_area_m2)); "
                       f"ogr2ogr {ans['ogr2ogr']['area_m2']:.3f} m² (SUM(ST_Area(geom, 1)), unrepaired), "
                       f"{ans['ogr2ogr']['area_m2_after_makevalid']:.3f} m² after MakeValid")
    details.append("")
    return rows, details


def pgimport_section(r, scale):
    """Issue 24: onemap load into PostGIS against ogr2ogr -f PostgreSQL."""
    rows, details = [], []
    tsv = os.path.join(r, "pgimport_runs.tsv")
    if not os.path.exists(tsv):
        return rows, details
    runs, med, rss = timed_runs(tsv)
    ans = read_json(os.path.join(r, "pgimport_answers.json"))
    ratio = med["ogr2ogr_pg"] / med["onemap_pg"]
    verdict = "not checked"
    if ans:
        ok = ans["onemap_count"] == ans["ogr2ogr_count"] and ans["max_rel_area_diff"] <= 1e-6 and ans["onemap_invalid"] == 0
        verdict = (f"{mark(ok)} count {ans['onemap_count']:,} vs {ans['ogr2ogr_count']:,}; OneMap's areas against PostGIS "
                   f"geography max Δ {ans['max_rel_area_diff']:.1e} rel; {ans['onemap_invalid']} invalid; total "
                   f"{ans['onemap_area_m2']:.1f} m² vs the peer's {ans['ogr2ogr_geography_m2']:.1f} m²")
    rows.append([f"import {scale:,} farmland parcels into PostGIS (GeoPackage, EPSG:4528 → 4490)",
                 f"{fmt_s(med['onemap_pg'])}, peak {rss['onemap_pg']:.0f} MiB", "—",
                 f"{fmt_s(med['ogr2ogr_pg'])}, peak {rss['ogr2ogr_pg']:.0f} MiB (ogr2ogr -f PostgreSQL)",
                 f"{ratio:.2f}× (ogr2ogr ÷ OneMap); issue 24 target > 1×: {mark(ratio > 1)}", verdict])
    details.append("### Import into PostGIS (issue 24)")
    details.append("")
    details.append("OneMap: `onemap load --catalog` of the farmland alone with `--db postgresql://…` (MakeValid repair, "
                   "CGCS2000 geodesic areas, COPY in one transaction, key, id index, GiST index, ANALYZE, the current "
                   "version's view). Peer: `PG_USE_COPY=YES ogr2ogr -f PostgreSQL … -nlt PROMOTE_TO_MULTI -lco "
                   "SPATIAL_INDEX=GIST -t_srs EPSG:4490 -makevalid` (repair, GiST index, no areas). One PostgreSQL 15 "
                   "cluster on the same machine (fsync off, as for every PostGIS row here); alternating.")
    details += run_lines(runs)
    details.append("")
    rep = os.path.join(r, "replica_runs.jsonl")
    if os.path.exists(rep):
        runs = [json.loads(l) for l in open(rep) if l.strip()]
        by = {}
        for x in runs:
            by.setdefault(x["what"], []).append(x)
        first = {w: statistics.median(x["first_check_s"] for x in v) for w, v in by.items() if w != "follow"}
        if {"spatialite", "postgis_empty", "postgis_warm"} <= first.keys():
            ratio = first["postgis_empty"] / first["spatialite"]
            rows.append(["replica start-up to its first answered check, the whole bench catalog "
                         "(PostGIS copied into an empty local copy; a warm copy)",
                         f"{fmt_s(first['postgis_empty'])}; warm {fmt_s(first['postgis_warm'])}",
                         f"{fmt_s(first['spatialite'])} (OneMap on the SpatiaLite file)", "—",
                         f"{ratio:.2f}× the SpatiaLite start-up; issue 24 target ≤ 2×: {mark(ratio <= 2)}", "—"])
        if "follow" in by:
            served = statistics.median(x["served_after_load_s"] for x in by["follow"])
            load = statistics.median(x["load_s"] for x in by["follow"])
            rows.append([f"a new farmland version ({scale:,} parcels) served by a replica, after its load's end",
                         f"{fmt_s(served)} (the load itself {fmt_s(load)})", "—", "—",
                         f"issue 24 target ≤ 2 s: {mark(served <= 2)}", "—"])
        details.append("Replica: `onemap serve --db postgresql://… --cache F` from its start to its first answered "
                       "POST /v1/checks (one medium site), against `onemap serve --db file.sqlite` of the same catalog; "
                       "empty: F deleted first (every layer copied from PostGIS), warm: F kept from the run before. "
                       "Follow: `onemap load --layers farmland` into the database while a replica runs, then "
                       "/v1/layers polled every 10 ms until it names the new version.")
        for w, v in by.items():
            key = "served_after_load_s" if w == "follow" else "first_check_s"
            details.append(f"- {w}: " + ", ".join(f"{x[key]:.2f} s" for x in v))
        details.append("")
    lb = os.path.join(r, "replica_lb.jsonl")
    if os.path.exists(lb):
        g = {x["group"]: x["wrk"] for x in (json.loads(l) for l in open(lb) if l.strip())}
        if {"one", "two_haproxy"} <= g.keys():
            def rps(w):
                return w["requests"] / (w["duration_us"] / 1e6)
            one, two = g["one"], g["two_haproxy"]
            rows.append(["POST /v1/checks under wrk, every bench site: two replicas behind HAProxy (deploy/haproxy.cfg) "
                         "against one replica, on this 2-core machine",
                         f"two: {rps(two):,.0f} req/s, p99 {two['latency_us']['p99'] / 1000:.1f} ms, non-2xx {two['non2xx']}",
                         f"one: {rps(one):,.0f} req/s, p99 {one['latency_us']['p99'] / 1000:.1f} ms, non-2xx {one['non2xx']}",
                         "—", f"{rps(two) / rps(one):.2f}× the throughput (stated; two cores cannot show scaling)", "—"])
            if "spatialite" in g:
                sl = g["spatialite"]
                ratio = rps(one) / rps(sl)
                rows.append(["POST /v1/checks under wrk, every bench site: one replica on PostGIS (each record stored in "
                             "PostgreSQL before the answer) against OneMap on the SpatiaLite file",
                             f"replica: {rps(one):,.0f} req/s, p99 {one['latency_us']['p99'] / 1000:.1f} ms",
                             f"SpatiaLite: {rps(sl):,.0f} req/s, p99 {sl['latency_us']['p99'] / 1000:.1f} ms", "—",
                             f"{ratio:.2f}× the throughput; issue 24 target within 10 %: {mark(ratio >= 0.9)}", "—"])
            if {"reads_replica", "reads_spatialite"} <= g.keys():
                rr, rs = g["reads_replica"], g["reads_spatialite"]
                ratio = rps(rr) / rps(rs)
                rows.append(["tiles and feature pages under wrk (every bench site: farmland tiles z12–z16 at its centre, "
                             "gzip, and a 100-feature page of its box): one replica on PostGIS against OneMap on the "
                             "SpatiaLite file",
                             f"replica: {rps(rr):,.0f} req/s, p99 {rr['latency_us']['p99'] / 1000:.1f} ms, non-2xx {rr['non2xx']}",
                             f"SpatiaLite: {rps(rs):,.0f} req/s, p99 {rs['latency_us']['p99'] / 1000:.1f} ms, non-2xx {rs['non2xx']}",
                             "—", f"{ratio:.2f}× the throughput; issue 24 target within 10 %: {mark(ratio >= 0.9)}", "—"])
            details.append("Replicas behind HAProxy: " + "; ".join(f"{k}: {wrk_line(w)}" for k, w in g.items()))
            details.append("")
    return rows, details


def agreement(cf, c):
    """The whole comparison with PostGIS, for the details."""
    return (f"{mark(c['equal'])} ids differ at {len(c['id_mismatches'])} sites; "
            f"{c['area_mismatch_count']} of {c['pairs']} areas differ by > {cf['rel_tol']:g} rel and > {cf['abs_tol_m2']:g} m² "
            f"({c['strict_rel_mismatch_count']} by > {cf['rel_tol']:g} rel alone; max Δ {c['max_rel_area_diff']:.1e} rel, "
            f"{c['max_abs_area_diff_m2']:.1e} m²)")


def agreement_short(who, c):
    """The same, short enough for a table cell; the details have the rest."""
    text = f"{who} vs PostGIS {mark(c['equal'])} ({c['pairs']} overlaps, max Δ {c['max_abs_area_diff_m2']:.1e} m²"
    if not c["equal"]:
        text += f"; ids differ at {len(c['id_mismatches'])} sites, {c['area_mismatch_count']} areas off"
    return text + ")"


# Issue 20's buckets, in words; a bucket not named here shows by its name.
BUCKET_WORDS = {"small": "small plots, 0.3–5 ha", "medium": "medium, 5–50 ha",
                "large": "large, 50–500 ha, some with holes or in parts",
                "corridor": "corridors, 5–30 km × 30–80 m", "legacy": "the earlier 150–400 m rectangles",
                "all": "all sites"}
TARGET_RATIO = 5     # issue 20: the full check ≥ 5× faster than SpatiaLite farmland-only, every bucket


def worst_first(groups):
    """The buckets, lowest SpatiaLite ÷ OneMap-full ratio first; all sites last."""
    names = [g for g in groups if g != "all"]
    return sorted(names, key=lambda g: groups[g]["ratios"]["spatialite_over_onemap_full"]) + ["all"]


def med_p90(g):
    return ms(g["median_ms"]) + (f" (p90 {ms(g['p90_ms'])})" if g.get("p90_ms") is not None else "")


def conflict_section(r):
    """Issues 4 and 20: per-site conflict check by bucket, farmland only on every engine, and
    OneMap's full check."""
    cf = read_json(os.path.join(r, "conflict_farmland.json"))
    if not cf:
        return [], []
    eng = cf["engines"]
    sl, pg, rt, om, full = (eng[k] for k in ("spatialite", "postgis", "spatialite_rttopo", "onemap", "onemap_full"))
    groups = cf["groups"]
    n_layers = len(full["layers"])
    rows = []
    for g in worst_first(groups):
        x = groups[g]
        q = x["ratios"]["spatialite_over_onemap_full"]
        rows.append([
            f"conflict check per site, {BUCKET_WORDS.get(g, g)} ({x['sites']} sites, median "
            f"{x['parcels_touched_median']:g} parcels touched); peers farmland only",
            f"{ms(full['groups'][g]['median_ms'])} full check ({n_layers} layers); "
            f"{ms(om['groups'][g]['median_ms'])} farmland only",
            med_p90(sl["groups"][g]), med_p90(pg["groups"][g]),
            f"{q:.2f}× (SpatiaLite ÷ OneMap full), {x['ratios']['postgis_over_onemap_full']:.2f}× (PostGIS ÷ OneMap full); "
            f"issue 20 target ≥ {TARGET_RATIO}×: " + ("✓ met" if q >= TARGET_RATIO else "✗ not met"),
            agreement_short("OneMap full", x["onemap_full_vs_postgis"]) + "; "
            + agreement_short("OneMap farmland", x["onemap_vs_postgis"]) + "; "
            + agreement_short("SpatiaLite", x["spatialite_vs_postgis"])])

    d = ["### Conflict check per bucket of sites", ""]
    d.append("Sites as projects come (issue 20, `lib/sites.py`): areas log-uniform within each size bucket over "
             "0.3–500 ha, corridors (a wandering centre line that follows the farmland, buffered), the large "
             "sites some with a hole or in two or three parts, and the earlier bench's rectangles as their own "
             "bucket; every site centred on (a corridor starting at) a farmland parcel. Median over the bucket's "
             "sites of the time per site, median over passes; p90 likewise for the Python peers (`onemap check "
             "--each` prints the median and mean of what it checked, not each site's time, so OneMap checks the "
             "whole list in one process and each bucket in one of its own, and gives no p90). Parcels touched: "
             "farmland parcels overlapping the site by over 0.01 m² (PostGIS's answer). Worst bucket first.")
    d.append("")
    d.append("| bucket | sites | area ha | vertices | holes / parts | parcels touched, median (max) | OneMap full | "
             "OneMap farmland | SpatiaLite farmland | PostGIS farmland | SpatiaLite ÷ OneMap full | PostGIS ÷ OneMap full | "
             "answers vs PostGIS (OneMap full, OneMap farmland, SpatiaLite) |")
    d.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for g in worst_first(groups):
        x = groups[g]
        d.append(f"| {BUCKET_WORDS.get(g, g) if g == 'all' else g} | {x['sites']} | {x['area_ha'][0]:.3g}–{x['area_ha'][1]:.3g} | "
                 f"{x['vertices'][0]}–{x['vertices'][1]} | {x['with_holes']} / {x['in_parts']} | "
                 f"{x['parcels_touched_median']:g} ({x['parcels_touched_max']}) | {ms(full['groups'][g]['median_ms'])} | "
                 f"{ms(om['groups'][g]['median_ms'])} | {med_p90(sl['groups'][g])} | {med_p90(pg['groups'][g])} | "
                 f"{x['ratios']['spatialite_over_onemap_full']:.2f}× | {x['ratios']['postgis_over_onemap_full']:.2f}× | "
                 + ", ".join(mark(x[k]["equal"]) for k in ("onemap_full_vs_postgis", "onemap_vs_postgis", "spatialite_vs_postgis"))
                 + f" ({x['onemap_full_vs_postgis']['pairs']:,} overlaps) |")
    d.append("")
    for g in worst_first(groups):
        for label, key in (("OneMap full, farmland layer", "onemap_full_vs_postgis"), ("OneMap farmland only", "onemap_vs_postgis"),
                           ("SpatiaLite", "spatialite_vs_postgis")):
            if not groups[g][key]["equal"]:
                c = groups[g][key]
                d.append(f"- ✗ {g}, {label} against PostGIS: {agreement(cf, c)}; e.g. ids "
                         f"{c['id_mismatches'][:2]}, areas {c['area_mismatches'][:2]}")
    d.append("")
    d.append("### Conflict check per site, all sites")
    d.append("")
    d.append(f"Per site: the parcels overlapping the site by more than {cf['min_area_m2']:g} m², with the "
             "ellipsoidal overlap area on CGCS2000 (GRS80). Both peers are loaded from the GeoPackage by "
             "`ogr2ogr -makevalid` and get the same site polygons (`bench/data/<scale>/sites.geojson`). "
             "SpatiaLite: `ST_Intersects` + `ST_Intersection`, candidates from the `SpatialIndex` virtual table, "
             "area = planar `ST_Area` after `ST_Transform` to a Lambert azimuthal equal-area projection on GRS80 "
             "centred on Lishui (equal-area, so it is the ellipsoidal area to ~1e-7). PostGIS: `ST_Intersects` "
             "(GiST) + `ST_Intersection`, `ST_Area(geography)` (GeographicLib's algorithm). "
             "OneMap: `onemap check sites.geojson --each [--layers farmland] --no-record --format json` (and the "
             "same on each bucket's sites, `bench/data/<scale>/work/sites_<bucket>.geojson`) on a "
             "database loaded by `onemap load` from the repo's `Layers/*.yaml` (rules and all) pointed at this "
             "scale's files (`bench/data/<scale>/catalog/`); it times each check itself, leaving out process "
             "start-up and one warm-up check. Time: per site as a client sees it (PostGIS over its Unix socket; "
             "the peers from Debian's Python, OneMap in its own process); in these lines, the mean over all the "
             "sites, median over passes; one untimed warm-up pass each; engines alternate. Areas agree when within "
             f"{cf['rel_tol']:g} relative or, for slivers, {cf['abs_tol_m2']:g} m².")
    d.append("")
    for name, e in (("OneMap, farmland only", om), ("OneMap, full check", full), ("SpatiaLite", sl),
                    ("PostGIS", pg), ("SpatiaLite with `ST_Area(g, 1)`", rt)):
        line = (f"- {name} ({e['version']}): " + ", ".join(f"{x:.3f}" for x in e["ms_per_site_by_pass"])
                + " ms/site by pass (mean over sites); median over sites "
                + ", ".join(f"{x:.3f}" for x in e["site_median_ms_by_pass"]) + " ms")
        if "site_p99_ms" in e:
            line += f"; per-site p50 {e['site_p50_ms']:.2f} ms, p99 {e['site_p99_ms']:.2f} ms"
        if "wall_s_by_pass" in e:
            line += "; whole process " + ", ".join(f"{x:.2f}" for x in e["wall_s_by_pass"]) + " s by pass"
        d.append(line + f"; {e['sites_with_conflict']} sites in farmland conflict, {e['conflict_features']} parcel overlaps")
    d.append(f"- On the median site instead of the mean: SpatiaLite ÷ OneMap farmland "
             f"{sl['median_site_median_ms'] / om['median_site_median_ms']:.2f}×, SpatiaLite ÷ OneMap full "
             f"{sl['median_site_median_ms'] / full['median_site_median_ms']:.2f}×; PostGIS ÷ SpatiaLite "
             f"{pg['median_ms_per_site'] / sl['median_ms_per_site']:.2f}× (means)")
    d.append(f"- OneMap's full check, per layer over the {cf['sites']} sites: "
             + "; ".join(f"{k} ({v['title']}) {v['sites_in_conflict']} sites in conflict, {v['features']} features"
                         for k, v in full["layers"].items())
             + "; verdicts " + ", ".join(f"{k} {v}" for k, v in sorted(full["verdicts"].items())))
    for label, key in (("OneMap farmland only", "onemap_vs_postgis"), ("OneMap full, farmland layer", "onemap_full_vs_postgis"),
                       ("SpatiaLite", "spatialite_vs_postgis"),
                       ("SpatiaLite's own ellipsoidal `ST_Area(g, 1)` (librttopo)", "spatialite_rttopo_vs_postgis")):
        d.append(f"- {label} against PostGIS: {agreement(cf, cf[key])}")
    d.append("  (`ST_Area(g, 1)` is why the SpatiaLite row uses the equal-area transform.)")
    same = cf["onemap_full_vs_onemap"]
    d.append(f"- OneMap full against OneMap farmland only, farmland layer: {mark(same['equal'])} "
             f"(max Δ {same['max_abs_area_diff_m2']:.1e} m²)")
    d.append(f"- Answers per site: `bench/results/<scale>/conflict_farmland_{{onemap,onemap_full,spatialite,postgis}}.json`, "
             "OneMap's full results in `conflict_full_onemap.json`")
    d.append("")
    return rows, d


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def http_section(r):
    """Issues 4, 9 and 20: POST /v1/checks one at a time (overhead over the in-process check) and
    under wrk, per bucket of sites and over all of them; the server's memory and start-up."""
    w = read_json(os.path.join(r, "http_wrk.json"))
    srv = read_json(os.path.join(r, "http_server.json"))
    ans = read_json(os.path.join(r, "http_answers.json"))
    if not (w and srv and ans):
        return [], []
    per_bucket = {x["group"]: x for x in read_jsonl(os.path.join(r, "http_wrk_buckets.jsonl"))}
    rps = lambda x: x["requests"] / (x["duration_us"] / 1e6)
    lat = w["latency_us"]
    socket_errors = lambda x: sum(v for k, v in x["errors"].items() if k != "status")
    all_wrk = [w] + [x["wrk"] for x in per_bucket.values()]
    non2xx = sum(x["non2xx"] for x in all_wrk)
    sock = sum(socket_errors(x) for x in all_wrk)
    acknowledged = (ans["posted"] - ans["not_201_count"]) * (1 + ans.get("rounds", 0)) + sum(
        x["requests"] - x["non2xx"] for x in all_wrk)
    records_ok = srv["records"] >= acknowledged
    mib = lambda kb: f"{kb / 1024:.0f} MiB"
    rows = []
    buckets = ans.get("buckets", {})
    order = sorted((g for g in buckets if g != "all"), key=lambda g: buckets[g]["overhead_p50_ms"] - buckets[g]["allowed_ms"],
                   reverse=True) + (["all"] if "all" in buckets else [])
    for g in order:
        b = buckets[g]
        cell = (f"overhead {b['overhead_p50_ms']:+.2f} ms at p50 (POST − `GET /health` {ms(b['http_minus_rtt_p50_ms'])}, "
                f"in process {ms(b['in_process_median_ms'])}); answer {kib(b['answer_bytes_median'])} median")
        pb = per_bucket.get(g)
        if pb:
            cell += (f"; wrk: {rps(pb['wrk']):,.0f} req/s, p99 {pb['wrk']['latency_us']['p99'] / 1000:.2f} ms, "
                     f"RSS {mib(pb['rss_kb_before'])} → {mib(pb['rss_kb_after'])}")
        bad = [] if b["farmland_vs_postgis"]["equal"] else ["farmland ≠ PostGIS"]
        bad += [f"full ≠ CLI at {len(b['full_differs_from_cli'])} sites"] if b["full_differs_from_cli"] else []
        bad += [f"{len(b['not_201'])} not 201"] if b["not_201"] else []
        if pb and (pb["wrk"]["non2xx"] or socket_errors(pb["wrk"])):
            bad.append(f"wrk non-2xx {pb['wrk']['non2xx']}, socket errors {socket_errors(pb['wrk'])}")
        rows.append([f"HTTP `POST /v1/checks`, {BUCKET_WORDS.get(g, g)}: one at a time" + (
                     f"; wrk -c{srv['connections']} {srv.get('bucket_seconds', srv['seconds'])} s" if pb else ""),
                     cell, "—", "—", "—",
                     f"issue 20 target: overhead ≤ 1 ms + 10% of in process = {b['allowed_ms']:.2f} ms: "
                     + ("✓ met" if b["target_met"] else "✗ not met"),
                     f"{mark(not bad)} " + ("; ".join(bad) if bad else f"farmland = PostGIS, full = CLI's ({b['sites']} sites)")])
    answers = (f"non-2xx {non2xx} {mark(non2xx == 0)}, socket errors {sock} (all wrk runs); "
               f"the {ans['posted']} sites one by one: "
               f"{agreement_short('farmland', ans['farmland_vs_postgis']) if ans['not_201_count'] == 0 else '✗ ' + str(ans['not_201_count']) + ' not 201'}, "
               f"full answer = CLI's {mark(ans['full_equal_to_cli'])}; "
               f"records stored {srv['records']:,} ≥ acknowledged {acknowledged:,} {mark(records_ok)}")
    rows += [
        [f"HTTP `POST /v1/checks` (full check), every site in turn, wrk {srv['threads']} threads × {srv['connections']} "
         f"connections, {srv['seconds']} s, 127.0.0.1",
         f"{rps(w):,.0f} req/s; p50 {lat['p50'] / 1000:.2f} ms, p99 {lat['p99'] / 1000:.2f} ms",
         "—", "—", "—", "—", answers],
        [f"server RSS (`onemap serve`, VmRSS) over the {srv['seconds']} s run",
         f"{mib(srv.get('rss_kb_before', srv['rss_kb_idle']))} before → {mib(srv['rss_kb_after'])} after "
         f"(idle after start-up {mib(srv['rss_kb_idle'])}, peak {mib(srv['hwm_kb'])})",
         "—", "—", "—", "—", "—"],
        ["server start-up to first `GET /health` 200", f"{srv['startup_ms']:.0f} ms", "—", "—", "—", "—", "—"],
    ]
    d = ["### HTTP", ""]
    d.append(f"`onemap serve --db COPY --open --port {srv['port']}` on a throwaway copy of the benchmark database "
             "(every POST stores a record). Start-up: from launching the process to the first 200 from "
             "`GET /health`, polled with curl every 5 ms. Then the "
             f"{ans['posted']} sites are posted one at a time on one kept-alive connection (Python `http.client`, "
             "`TCP_NODELAY`) and their answers checked (this also warms the server); then "
             f"{ans.get('rounds', '?')} rounds; in each, per bucket, `onemap check BUCKET.geojson --each --no-record` "
             "(the full check in process, timing itself, on the benchmark database), then for every site of the bucket a "
             "`GET /health` and the site's `POST /v1/checks` on the same connection: a site's HTTP time is the median "
             "over rounds of POST minus that health round trip, a bucket's the median over its sites, and the overhead "
             "is that minus the median over rounds of the CLI's median for the bucket (it gives a median per process, "
             "not a time per site). Then per bucket "
             f"`wrk -t{srv['threads']} -c{srv['connections']} -d{srv.get('bucket_seconds', srv['seconds'])}s --latency "
             "-s bench/lib/wrk_checks.lua` posting that bucket's sites in turn, and last every site for "
             f"{srv['seconds']} s, the server's VmRSS read before and after each. The server is stopped with SIGTERM at the end.")
    d.append("")
    d.append(f"- `GET /health` round trip on the connection: p50 {ans['health_rtt_ms']['p50']:.3f} ms, max "
             f"{ans['health_rtt_ms']['max']:.2f} ms" if "health_rtt_ms" in ans else "- no health round trips recorded")
    for g in order:
        b = buckets[g]
        d.append(f"- {g}: POST − health p50 {b['http_minus_rtt_p50_ms']:.3f} ms, in process {b['in_process_median_ms']:.3f} ms, "
                 f"overhead {b['overhead_p50_ms']:+.3f} ms (allowed {b['allowed_ms']:.3f}); CLI by round "
                 + ", ".join(f"{x:.3f}" for x in b.get("in_process_by_round_ms", []))
                 + (f" ms (the conflict row's: {b['conflict_row_median_ms']:.3f} ms)" if "conflict_row_median_ms" in b else "")
                 + "; answers median "
                 f"{kib(b['answer_bytes_median'])}, max {kib(b['answer_bytes_max'])}"
                 + (f"; wrk: {wrk_line(per_bucket[g]['wrk'])}" if g in per_bucket else ""))
    d.append(f"- every site, {srv['seconds']} s: " + wrk_line(w))
    d.append(f"- first post of each site, one at a time: p50 {ans['unloaded_ms']['p50']:.2f} ms, mean "
             f"{ans['unloaded_ms']['mean']:.2f} ms, max {ans['unloaded_ms']['max']:.2f} ms")
    if ans["not_201_count"] == 0:
        d.append("- farmland answers over HTTP against PostGIS: " + agreement(
            {"rel_tol": 1e-6, "abs_tol_m2": 1e-4}, ans["farmland_vs_postgis"]))
    else:
        d.append(f"- {ans['not_201_count']} of {ans['posted']} posts did not answer 201, e.g. {ans['not_201'][:2]}")
    if ans["full_differs_from_cli"]:
        d.append(f"- full answers differ from the CLI's at: {', '.join(ans['full_differs_from_cli'][:20])}")
    d.append(f"- RSS: {srv['rss_kb_idle']:,} kB after start-up, {srv.get('rss_kb_before', 0):,} kB before the "
             f"{srv['seconds']} s run, {srv['rss_kb_after']:,} kB after it, peak (VmHWM) {srv['hwm_kb']:,} kB; "
             f"shutdown: {srv['stop']}")
    d.append("")
    return rows, d


def kib(b):
    return f"{b / 1024:,.0f} KiB" if b >= 1024 else f"{b:.0f} B"


def wrk_line(w):
    if w["requests"] == 0:
        return f"0 requests answered in {w['duration_us'] / 1e6:.1f} s; socket errors " + ", ".join(
            f"{k} {v}" for k, v in w["errors"].items() if k != "status")
    rps = w["requests"] / (w["duration_us"] / 1e6)
    lat = w["latency_us"]
    sock = ", ".join(f"{k} {v}" for k, v in w["errors"].items() if k != "status")
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(w.get("statuses", {}).items()))
    return (f"{w['requests']:,} requests in {w['duration_us'] / 1e6:.1f} s = {rps:,.1f} req/s; latency min "
            f"{lat['min'] / 1000:.2f}, mean {lat['mean'] / 1000:.2f}, p50 {lat['p50'] / 1000:.2f}, p90 {lat['p90'] / 1000:.2f}, "
            f"p99 {lat['p99'] / 1000:.2f}, max {lat['max'] / 1000:.2f} ms; "
            + (f"statuses {statuses}; " if statuses else "") + f"non-2xx {w['non2xx']}; "
            f"socket errors {sock}; {w['bytes'] / max(w['duration_us'], 1) :.1f} MB/s")


def tiles_section(r):
    """Issue 5: cold tiles per zoom against PostGIS ST_AsMVT, warm cache under wrk."""
    t = read_json(os.path.join(r, "tiles.json"))
    if not t:
        return [], []
    rows, d = [], []
    ans = t["answers"]
    for z, zs in sorted(t["zooms"].items(), key=lambda kv: int(kv[0])):
        om, pg = zs["onemap"], zs["postgis"]
        zi = int(z)
        target = 2 if zi >= 14 else 20
        met = zs["ratio"] >= target
        if zi >= t["high_zoom"]:
            h = ans["high"][z]
            verdict = (f"ids {mark(h['equal_tiles'] == h['tiles'])} {h['equal_tiles']}/{h['tiles']} tiles equal "
                       f"({h['onemap_features']:,} vs {h['postgis_features']:,} features)")
        else:
            lows = ans["low"][z]
            verdict = "generalised, so ids not compared; area covered ÷ data's area " + ", ".join(
                f"{x['cover_ratio']:.3f}" if x["cover_ratio"] is not None else "—" for x in lows) + \
                f" on {len(lows)} tiles"
        rows.append([f"cold tiles z{z} ({om['tiles']} tiles, farmland, one connection)",
                     f"{om['tiles_per_s']:,.1f} tiles/s ({om['ms_per_tile']:.1f} ms), median {kib(om['median_bytes'])}",
                     "—",
                     f"{pg['tiles_per_s']:,.1f} tiles/s ({pg['ms_per_tile']:.1f} ms), median {kib(pg['median_bytes'])}",
                     "—",
                     f"{zs['ratio']:,.1f}× (OneMap ÷ PostGIS); issue 5 target ≥ {target}×: " + ("✓ met" if met else "✗ not met"),
                     verdict])
    w = t.get("wrk")
    if w:
        rps = w["requests"] / (w["duration_us"] / 1e6)
        rows.append([f"warm tiles (cache), wrk 2 threads, {sum(t['tile_count'].values())} listed tiles at their versioned URLs, gzip",
                     f"{rps:,.0f} tiles/s; p50 {w['latency_us']['p50'] / 1000:.2f} ms, p99 {w['latency_us']['p99'] / 1000:.2f} ms",
                     "—", "—", "—", "issue 5 target ≥ 20,000 tiles/s: " + ("✓ met" if rps >= 20000 else "✗ not met"),
                     f"non-2xx {w['non2xx']} {mark(w['non2xx'] == 0)}"])
    d.append("### Tiles")
    d.append("")
    d.append("Farmland only, the same tile list for both: per zoom, the tiles under farmland parcels picked with a "
             "fixed seed (`lib/tiles_bench.py list`). OneMap: `GET /tiles/farmland/{z}/{x}/{y}.mvt` on one keep-alive "
             "connection over a plain socket (not Python's http.client, whose own cost per request was more than a "
             "small tile's), one tile at a time, from a server started afresh for each run (so every tile is cold: OneMap "
             "has no way to bypass its cache, and caches by tile), after one warm-up tile outside the list (the first tile "
             "after start-up waits for the layer to be read into memory, begun at start-up; its time is given below). No "
             "`Accept-Encoding`, so both sides give plain MVT bytes. PostGIS: Martin's table-source query, "
             "`ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y), 4096, 64, true))` over "
             "`geom && ST_Transform(ST_TileEnvelope(z, x, y, margin => 64/4096), 4490)`, every attribute and the FID as "
             "feature id, a prepared statement on one connection over the Unix socket (no HTTP in front of it, which "
             "favours PostGIS a little). Tiles/s = tiles ÷ the pass's total time, median of runs; sizes from the last "
             f"run. Targets (issue 5): z14–z16 ≥ 2×, z8–z12 ≥ 20×, warm ≥ 20,000 tiles/s. PostGIS: {t['postgis_version']}. "
             "Plot: `bench/results/tiles.png`.")
    d.append("")
    for z, zs in sorted(t["zooms"].items(), key=lambda kv: int(kv[0])):
        om, pg = zs["onemap"], zs["postgis"]
        d.append(f"- z{z}: OneMap " + ", ".join(f"{x:,.1f}" for x in om["tiles_per_s_by_run"]) + " tiles/s by run, "
                 f"median {kib(om['median_bytes'])}, max {kib(om['max_bytes'])}, {om['empty_tiles']} empty; PostGIS "
                 + ", ".join(f"{x:,.2f}" for x in pg["tiles_per_s_by_run"]) + " tiles/s by run, "
                 f"median {kib(pg['median_bytes'])}, max {kib(pg['max_bytes'])}, {pg['empty_tiles']} empty")
    if t.get("floor"):
        d.append(f"- OneMap's floor, the z{t['floor'][0]['z']} tiles again once cached, same connection (HTTP and a cache "
                 "lookup, in every OneMap figure and in no PostGIS one): median "
                 + ", ".join(f"{x['ms_median']:.2f}" for x in t["floor"]) + " ms by run")
    if t["warmup"]:
        d.append("- OneMap's first tile after start-up (z13, outside the list; waits for the layer in memory): "
                 + ", ".join(f"{x['ms']:,.0f} ms" for x in t["warmup"]) + " by run")
    d.append(f"- Answers, z{t['high_zoom']} and up (every listed tile): ids mapped to BSM (OneMap's MVT id is "
             "om_fid, PostGIS's the FID), of the features drawn in the tile square; a feature whose clipped geometry "
             "lies wholly in the 64-unit buffer is listed apart (PostGIS keeps slivers there that OneMap drops):")
    for z, h in sorted(ans["high"].items(), key=lambda kv: int(kv[0])):
        line = (f"  - z{z}: {h['equal_tiles']}/{h['tiles']} tiles with equal id sets; {h['onemap_features']:,} OneMap "
                f"features, {h['postgis_features']:,} PostGIS; OneMap features without id {h['onemap_features_without_id']}")
        for x in h["diffs"][:3]:
            line += (f"; {x['tile']}: only OneMap {x['only_onemap_count']} {x['only_onemap'][:3]}, only PostGIS "
                     f"{x['only_postgis_count']} {x['only_postgis'][:3]}")
        for x in h.get("buffer_only_diffs", [])[:3]:
            line += (f"; in the 64-unit buffer only (not compared), {x['tile']}: only OneMap {x['only_onemap']}, "
                     f"only PostGIS {x['only_postgis']}")
        d.append(line)
    d.append(f"- Below z{t['high_zoom']} OneMap generalises by design (polygons under 3 px become coverage squares, a "
             "layer tile is capped at 450 KiB), so ids are not compared: on the first "
             f"{t['coverage_tiles']} tiles of each zoom, the area OneMap's tile covers inside the tile square (union of "
             "its polygons, tile units²) is held to the data's area there (PostGIS: `ST_Area(ST_Intersection("
             "ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)))` summed; parcels do not overlap), issue 5's 5%:")
    for z, lows in sorted(ans["low"].items(), key=lambda kv: int(kv[0])):
        for x in lows:
            ratio = f"{x['cover_ratio']:.4f}" if x["cover_ratio"] is not None else "—"
            ok = x["cover_ratio"] is not None and abs(x["cover_ratio"] - 1) <= 0.05
            d.append(f"  - z{z} {x['tile']}: OneMap covers {x['onemap_cover']:,.0f}, the data {x['data_area']:,.0f} "
                     f"(ratio {ratio} {mark(ok)} within 5%); features: OneMap {x['onemap_features']:,} outlines + squares "
                     f"for {x['onemap_merged_parcels']:,} parcels, PostGIS {x['postgis_features']:,}")
    if w:
        d.append(f"- Warm: `wrk -t2 -c16 -d15s -s bench/lib/wrk_mix.lua` over the {sum(t['tile_count'].values())} listed "
                 "tiles at the versioned URLs `/tiles/farmland.json` gives (`/tiles/farmland@N/{z}/{x}/{y}.mvt`, "
                 "`Accept-Encoding: gzip`), right after the last cold pass, so all are cached: " + wrk_line(w)
                 + ". wrk runs on the same 2 cores as the server. Every request goes through Hummingbird's HTTP/1 "
                 "decoder, router and middleware since the hand-written tile path in front of them was removed "
                 "(issue 19), which answered 28,309 tiles/s here at 82a0976; a map asks for a versioned tile once, "
                 "then keeps it (`immutable`).")
    d.append("")
    return rows, d


def features_section(r):
    """Issue 7: bbox items against pygeoapi."""
    f = read_json(os.path.join(r, "features.json"))
    if not f:
        return [], []
    om, pg = f["engines"]["onemap"], f["engines"]["pygeoapi"]
    eq = sum(1 for c in f["check"] if c["equal"])
    pages = sum(1 for c in f["check"] if c["pages_ok"])
    verdict = (f"ids {mark(f['equal'])} equal for {eq}/{f['boxes']} boxes (one page of up to 10,000), "
               f"timed pages {limit_ok(pages, f['boxes'])}")
    rows = [[f"OGC API Features `items?bbox=…&limit={f['limit']}` ({f['boxes']} boxes, GeoJSON, one connection)",
             f"{om['features_per_s']:,.0f} features/s; {om['ms_median']:.1f} ms/request",
             "—", "—",
             f"{pg['features_per_s']:,.0f} features/s; {pg['ms_median']:.1f} ms/request",
             f"{f['ratio']:.1f}× (OneMap ÷ pygeoapi); issue 7 target ≥ 5×: " + ("✓ met" if f["ratio"] >= 5 else "✗ not met"),
             verdict]]
    d = ["### Feature API", ""]
    d.append(f"pygeoapi {f['pygeoapi_version']} (PyPI) under gunicorn (2 workers), provider {f['provider']}, made by "
             "`ogr2ogr -makevalid` from the same farmland.gpkg; OneMap `onemap serve` on the benchmark database. Boxes: "
             "around farmland parcels picked with a fixed seed, each holding 1,200–1,600 parcel boxes, so every timed "
             f"request returns a full page of {f['limit']}. Each box once per pass, the servers alternating pass by "
             "pass after an untimed warm-up pass; `Accept: application/geo+json`. Time: request sent to body read, "
             "keep-alive connection. features/s = features returned ÷ time, over the pass; ms/request the median.")
    d.append("")
    for name, e in (("OneMap", om), ("pygeoapi", pg)):
        d.append(f"- {name}: " + ", ".join(f"{x:,.0f}" for x in e["features_per_s_by_pass"]) + " features/s by pass; "
                 "median ms/request " + ", ".join(f"{x:.1f}" for x in e["ms_median_by_pass"])
                 + f"; features per request {e['features_per_request']}; median body {kib(e['bytes_median'])}")
    for c in f["check"]:
        if not (c["equal"] and c["pages_ok"]):
            d.append(f"  - ✗ box {c['bbox']}: OneMap {c['onemap']}, pygeoapi {c['pygeoapi']}, numberMatched "
                     f"{c['numberMatched']}, duplicates {c['duplicates']}, pages ok {c['pages_ok']}; only OneMap "
                     f"{c['only_onemap'][:5]}, only pygeoapi {c['only_pygeoapi'][:5]}")
    given = [c["numberMatched"] for c in f["check"]]
    if any(m["pygeoapi"] is None for m in given):
        nm = "numberMatched: pygeoapi does not give it"
    else:
        nm = "numberMatched " + ("equal" if all(m["onemap"] == m["pygeoapi"] for m in given) else f"differs: {given[:3]}")
    d.append(f"- Answers: each box once more with `limit=10000` on both (one page); id sets equal for {eq} of "
             f"{f['boxes']}; {nm}; each timed page was {f['limit']} features of that set: {pages}/{f['boxes']}")
    for p in f.get("paging", []):
        d.append(f"- Paging box {p['bbox']} by `limit={f['page']}&offset=…`: " + "; ".join(
            f"{n} {p[n]['returned']} features, {p[n]['distinct']} distinct, union = the one-page set "
            f"{mark(p[n]['equal_to_one_page'])}" for n in ("onemap", "pygeoapi")))
    d.append("")
    return rows, d


def limit_ok(n, total):
    return f"{mark(n == total)} {n}/{total} full and within the set"


def ledger_section(r):
    """Issue 8: the ledger by county against PostGIS."""
    l = read_json(os.path.join(r, "ledger.json"))
    if not l:
        return [], []
    m = l["median_s"]
    c, cf = l["check"], l["check_farmland_only"]
    rows = [
        ["ledger by county, farmland (`onemap ledger --layers farmland`)", fmt_s(m["onemap_farmland"]), "—",
         f"{fmt_s(m['postgis_naive'])} naive (issue's anchor); {fmt_s(m['postgis_farmland'])} overlaps once", "—",
         f"{l['ratio_naive']:.1f}× (naive ÷ OneMap); issue 8 target ≥ 20×: " + ("✓ met" if l["ratio_naive"] >= 20 else "✗ not met")
         + f"; {l['ratio_once_farmland']:.1f}× (overlaps-once SQL ÷ OneMap)",
         f"{mark(cf['equal'])} {cf['compared'] - len(cf['mismatches'])}/{cf['compared']} county figures equal "
         f"(max Δ {cf['max_rel_area_diff']:.1e} rel)"],
        [f"ledger by county, all {len(l['layers'])} layers (`onemap ledger`)", fmt_s(m["onemap"]), "—",
         fmt_s(m["postgis"]) + " overlaps once", "—", f"{l['ratio_once_all']:.1f}× (PostGIS ÷ OneMap)",
         f"{mark(c['equal'])} {c['compared'] - len(c['mismatches'])}/{c['compared']} county/layer figures equal "
         f"(count, area within 1e-6; max Δ {c['max_rel_area_diff']:.1e} rel)"],
    ]
    d = ["### Ledger by county", ""]
    d.append("OneMap: `onemap ledger --by county --format json` (every layer) and with `--layers farmland`, wall time of "
             "the process. PostGIS, overlaps counted once (the answer OneMap gives): per layer, county by county "
             "(`CROSS JOIN LATERAL`, so PostGIS prepares and detoasts each county once), every feature meeting the "
             "county (GiST), itself if `ST_Covers(county, feature)` (prepared, so cheap) else `ST_Intersection` with it, counted when its "
             "`ST_Area(geography)` is over 0.01 m² (lines: when they meet it); pieces of one county whose interiors meet "
             "are grouped by `ST_ClusterIntersecting` and their union's area counted once. The naive query (issue 8's "
             "anchor): `SUM(ST_Area(ST_Intersection(f.geom, c.geom)::geography))` per county over the parcels that "
             f"intersect it; timed {l['naive_runs']} time(s), its area is "
             f"{l['naive']['rel_diff_from_onemap']:.1e} relative off OneMap's total (it counts any sliver and any overlap).")
    d.append("")
    for k, v in l["seconds"].items():
        d.append(f"- {k}: " + ", ".join(f"{x:.2f}" for x in v) + " s by run")
    for label, cc in (("all layers", c), ("farmland only", cf)):
        d.append(f"- answers, {label}: {mark(cc['equal'])} {cc['compared']} figures compared, "
                 f"{len(cc['mismatches'])} differ; max Δ area {cc['max_rel_area_diff']:.1e} rel")
        for mm in cc["mismatches"][:8]:
            d.append(f"  - {mm['layer']} {mm['unit']}: OneMap count {mm['onemap'][0]}, area {mm['onemap'][1]:,.3f} m²; "
                     f"PostGIS {mm['postgis'][0]}, {mm['postgis'][1]:,.3f} m²")
    d.append("")
    return rows, d


def audit_section(r):
    a = read_json(os.path.join(r, "audit.json"))
    if not a:
        return [], []
    m = a["median_s"]
    verdict = (f"{mark(a['equal'])} pairs {a['pairs']['onemap']:,} vs {a['pairs']['postgis']:,} "
               f"(only OneMap {a['only_onemap_count']}, only PostGIS {a['only_postgis_count']}); "
               f"{a['area_mismatch_count']} areas off (max Δ {a['max_rel_area_diff']:.1e} rel, {a['max_abs_area_diff_m2']:.1e} m²); "
               f"counties differ for {a['county_mismatch_count']}")
    internal = f"; its own timing {m['onemap_internal']:.2f} s" if "onemap_internal" in m else ""
    met = lambda r: "✓ met" if r >= 3 else "✗ not met"
    ratio = f"{a['ratio']:.1f}× (PostGIS ÷ OneMap `--format json`, wall): issue 8 target ≥ 3× {met(a['ratio'])}"
    if "ratio_csv" in a:
        ratio += f"; {a['ratio_csv']:.1f}× with `--format csv` {met(a['ratio_csv'])}"
    if a.get("ratio_internal"):
        ratio += f"; {a['ratio_internal']:.1f}× on OneMap's own timing"
    rows = [["audit farmland × ecological_redline, overlap > 0.01 m² (`onemap audit`)",
             f"{fmt_s(m['onemap'])} (json), {fmt_s(m['onemap_csv'])} (csv){internal}" if "onemap_csv" in m
             else fmt_s(m["onemap"]) + internal, "—", fmt_s(m["postgis"]), "—", ratio, verdict]]
    d = ["### Audit farmland × ecological red line", ""]
    d.append("OneMap: `onemap audit --pairs farmland:ecological_redline --min-area 0.01 --format json --out F`, wall time of "
             "the process (start-up, reading, writing the JSON), and the same with `--format csv` (the rows PostGIS "
             "returns); its own printed time (finding the pairs, before any output) is given too. PostGIS: "
             "`ST_Intersects` (GiST) join, `ST_Area(ST_Intersection(f.geom, r.geom)::geography) > 0.01`, the pairs' BSMs "
             "fetched, over an open connection; the county of each pair (the one holding the centre of the overlap's box, "
             "as OneMap assigns it) from a second, untimed query.")
    d.append("")
    for k, v in a["seconds"].items():
        d.append(f"- {k}: " + ", ".join(f"{x:.2f}" if x is not None else "?" for x in v) + " s by run")
    d.append(f"- total overlap area: OneMap {a['total_area_m2']['onemap']:,.3f} m², PostGIS {a['total_area_m2']['postgis']:,.3f} m²; "
             f"{a['strict_rel_mismatch_count']} areas differ by > 1e-6 relative alone")
    for label, key in (("only OneMap", "only_onemap"), ("only PostGIS", "only_postgis"),
                       ("areas off", "area_mismatches"), ("counties differ", "county_mismatches")):
        if a[key]:
            d.append(f"- {label}: " + "; ".join(str(x) for x in a[key][:5]))
    d.append("")
    return rows, d


def load_section(r):
    w = read_json(os.path.join(r, "load_wrk.json"))
    srv = read_json(os.path.join(r, "load_server.json"))
    mix = read_json(os.path.join(r, "load_mix.json"))
    if not (w and srv and mix):
        return [], []
    warm = read_json(os.path.join(r, "load_wrk_warmup.json"))
    rps = w["requests"] / (w["duration_us"] / 1e6)
    sock = sum(v for k, v in w["errors"].items() if k != "status")
    mib = lambda kb: f"{kb / 1024:.0f} MiB"
    ok = w["non2xx"] == 0 and sock == 0 and w["requests"] > 0 and srv.get("health_after", "ok") == "ok"
    rows = [[f"load: {srv['seconds']} s mixed (tiles {mix['shares_percent']['tiles']}%, items {mix['shares_percent']['items']}%, "
             f"identify {mix['shares_percent']['identify']}%, POST checks {mix['shares_percent']['checks']}%), "
             f"wrk 2 threads × {srv['connections']} connections",
             f"{w['requests']:,} requests ({rps:,.0f} req/s); p50 {w['latency_us']['p50'] / 1000:.2f} ms, "
             f"p99 {w['latency_us']['p99'] / 1000:.2f} ms; RSS {mib(srv['rss_kb_start'])} → {mib(srv['rss_kb_end'])}",
             "—", "—", "—", "—",
             f"{mark(ok)} errors (non-2xx) {w['non2xx']}, socket errors {sock} (timeouts {w['errors']['timeout']}); "
             f"`/health` after the load: {srv.get('health_after', '?')}"]]
    d = ["### Load (issue 10)", ""]
    d.append(f"`onemap serve` on a throwaway copy of the benchmark database, checks posted with {srv.get('auth', '--open')}; "
             f"`wrk -t2 -c{srv['connections']} "
             f"-d{srv['seconds']}s --latency -s bench/lib/wrk_mix.lua` over {mix['lines']} requests shuffled with a fixed "
             f"seed (`lib/load_mix.py`): farmland and composite `/tiles/onemap/` tiles of the cold list "
             f"({mix['distinct']['tiles']} paths), `/collections/farmland/items?bbox=…&limit=100` ({mix['distinct']['items']} "
             f"boxes), `/v1/identify` at the sites' corners ({mix['distinct']['identify']}), and `POST /v1/checks` of the "
             f"{mix['distinct']['checks']} sites; `Accept-Encoding: gzip`. Every request is meant to succeed (the tiles are "
             "over the data; an empty tile is a 204), so every status outside 2xx counts as an error. Before it, "
             f"{srv['warmup_seconds']} s of the same load warm the server; RSS (VmRSS) is read after the warm-up and at "
             "the end.")
    d.append("")
    d.append("- load: " + wrk_line(w))
    if warm:
        d.append("- warm-up: " + wrk_line(warm))
    d.append(f"- RSS {srv['rss_kb_start']:,} kB after the warm-up, {srv['rss_kb_end']:,} kB at the end, peak (VmHWM) "
             f"{srv['hwm_kb']:,} kB; checks stored {srv['records']:,}; shutdown: {srv['stop']}")
    d.append("")
    return rows, d


def auth_section(r):
    """Issue 25: a bearer token (JWT) verified once and remembered until it expires, so an
    authenticated check or tile costs at most 5 % over an anonymous one."""
    runs = read_jsonl(os.path.join(r, "auth_runs.jsonl"))
    srv = read_json(os.path.join(r, "auth_server.json"))
    if not (runs and srv):
        return [], []
    ver = read_json(os.path.join(r, "auth_verify.json")) or {}
    prov = read_json(os.path.join(r, "auth_provider.json")) or {}
    warm = read_json(os.path.join(r, "auth_warm.json")) or {}
    rps = lambda w: w["requests"] / (w["duration_us"] / 1e6)
    sock = lambda w: sum(v for k, v in w["errors"].items() if k != "status")
    callers = ("anonymous", "token", "key")
    what_words = {
        "checks": f"`POST /v1/checks`, every bench site ({srv['bodies']}) in turn, wrk -t{srv['threads']} -c{srv['check_connections']}",
        "tiles": f"warm farmland tiles ({srv['tiles']:,} listed, gzip), wrk -t{srv['threads']} -c{srv['tile_connections']}",
    }
    rows = []
    for what in ("checks", "tiles"):
        by = {c: [x for x in runs if x["what"] == what and x["caller"] == c] for c in callers}
        if not (by["anonymous"] and by["token"]):
            continue
        med = {c: statistics.median(rps(x["wrk"]) for x in v) for c, v in by.items() if v}
        p99 = {c: statistics.median(x["wrk"]["latency_us"]["p99"] / 1000 for x in v) for c, v in by.items() if v}
        ratio = med["anonymous"] / med["token"]
        overhead = (ratio - 1) * 100
        # The server's processor time per request (runs from before it was recorded have none).
        cpu_us = lambda x: x["server_cpu_ticks"] / x["clk_tck"] * 1e6 / max(1, x["wrk"]["requests"])
        timed = {c: [cpu_us(x) for x in v if "server_cpu_ticks" in x] for c, v in by.items() if v}
        cpu = {c: statistics.median(v) for c, v in timed.items()} if all(timed.values()) else None
        # An API key (runs from before keys were measured have none), judged as the token is.
        keyed = ""
        if "key" in med:
            key_overhead = (med["anonymous"] / med["key"] - 1) * 100
            keyed = (f"; an API key (`onemap keys create --role planner`): {med['key']:,.0f} req/s, p99 {p99['key']:.2f} ms, "
                     f"{key_overhead:+.1f} % over anonymous ({mark(key_overhead <= 5)})"
                     + (f", server processor {cpu['key']:.0f} µs per request, {(cpu['key'] / cpu['anonymous'] - 1) * 100:+.1f} % "
                        f"({mark(cpu['key'] / cpu['anonymous'] - 1 <= 0.05)})" if cpu and "key" in cpu else ""))
        cpu_overhead = (cpu["token"] / cpu["anonymous"] - 1) * 100 if cpu else None
        non2xx = sum(x["wrk"]["non2xx"] for v in by.values() for x in v)
        errors = sum(sock(x["wrk"]) for v in by.values() for x in v)
        if what == "checks":
            ok = non2xx == 0 and errors == 0 and ver.get("token_post_status") == 201 and ver.get("tampered_post_status") == 401
            answers = (f"{mark(ok)} a check with the token: {ver.get('token_post_status', '?')}, recorded as "
                       f"`{ver.get('record_key_name', '?')}`; the token's signature altered: {ver.get('tampered_post_status', '?')}; "
                       f"ES256 token {'taken' if ver.get('es256_accepted') else 'refused'}; non-2xx {non2xx}, socket errors {errors}")
        else:
            ok = non2xx == 0 and errors == 0 and bool(warm)
            answers = f"{mark(ok)} non-2xx {non2xx}, socket errors {errors}"
            if warm:
                answers += (f"; warming: every tile 200/204 both ways, the same bytes for {warm['same_bytes']} of "
                            f"{warm['tiles']}")
        rows.append([f"{what_words[what]}, {srv['seconds']} s × {len(by['token'])} each, alternating: with an RS256 bearer "
                     "token (`--auth`, a planner) against anonymous (`--open`)",
                     f"token {med['token']:,.0f} req/s, p99 {p99['token']:.2f} ms; anonymous {med['anonymous']:,.0f} req/s, "
                     f"p99 {p99['anonymous']:.2f} ms (medians)" + keyed,
                     "—", "—",
                     f"throughput: anonymous ÷ token {ratio:.3f}, {overhead:+.1f} % over anonymous ({mark(overhead <= 5)}); "
                     + (f"the server's processor time per request: token {cpu['token']:.0f} µs, anonymous "
                        f"{cpu['anonymous']:.0f} µs, {cpu_overhead:+.1f} % ({mark(cpu_overhead <= 5)}); " if cpu else "")
                     + "issue 25 target ≤ 5 % over anonymous",
                     answers])
    mib = lambda kb: f"{kb / 1024:.0f} MiB"
    d = ["### Bearer tokens (issue 25)", ""]
    d.append("A throwaway identity provider (`bench/lib/auth_tokens.py provider`, PyJWT "
             f"{prov.get('pyjwt', '?')}): an RSA 2048 and an EC P-256 key, a JWKS file of both public keys "
             f"(kid {', '.join(prov.get('kids', [])) or '?'}), an `auth.yaml` naming it (issuer `{prov.get('issuer', '?')}`, "
             f"audience `{prov.get('audience', '?')}`, role `{prov.get('role', '?')}` → planner) and one RS256 token "
             f"({prov.get('token_bytes', '?')} bytes; sub `{prov.get('subject', '?')}`, roles [{prov.get('role', '?')}], "
             "valid for an hour). `onemap serve --db COPY --open --open-rate 0 --auth auth.yaml` on a throwaway copy of "
             "the benchmark database (every POST stores a record). Before anything is timed: a check posted with the token "
             "must answer 201 and be listed by `GET /v1/checks` (with the token) as made by `sso:…`, one posted with a "
             "character of the token's signature changed must answer 401, and every listed tile is asked for once "
             f"anonymously and once with the token (the cache warm for both); then {srv['warmup_seconds']} s of anonymous "
             "checks under wrk. Then, alternating which caller goes first, "
             f"{len({x['run'] for x in runs})} times: `wrk --latency -d{srv['seconds']}s -s bench/lib/wrk_checks.lua` over "
             "every site, anonymous, with `Authorization: Bearer <JWT>` and with a planner's API key (`Bearer om_…`), and "
             "`-s bench/lib/wrk_mix.lua … gzip [JWT|key]` over the warm tiles the same three ways. Throughput and p99 are the medians over the runs; the overhead is "
             "anonymous ÷ token throughput − 1. wrk runs on the same two cores, and sends each token request 650 bytes "
             "more, so throughput counts the client's extra work too: the server's own processor time per request "
             "(user + system of every thread, from /proc over each run, ÷ requests; medians) says what the token costs "
             "the server.")
    d.append("")
    for what in ("checks", "tiles"):
        for x in sorted((x for x in runs if x["what"] == what), key=lambda x: x["run"]):
            cpu_note = (f"; server processor {x['server_cpu_ticks'] / x['clk_tck']:.2f} s = "
                        f"{x['server_cpu_ticks'] / x['clk_tck'] * 1e6 / max(1, x['wrk']['requests']):.0f} µs per request"
                        if "server_cpu_ticks" in x else "")
            d.append(f"- {what}, run {x['run']}, {x['caller']}: {wrk_line(x['wrk'])}{cpu_note}")
    if ver:
        d.append(f"- the token's check: {ver.get('token_post_status')}, record {ver.get('record_id')} by "
                 f"`{ver.get('record_key_name')}`; signature altered: {ver.get('tampered_post_status')} "
                 f"({ver.get('tampered_answer')}); anonymous check: {ver.get('anonymous_post_status')}; "
                 f"the ES256 token (kid bench-ec) on `GET /v1/checks`: {ver.get('es256_list_status')}")
    if warm:
        statuses = lambda w: ", ".join(f"{k}: {v:,}" for k, v in w["statuses"].items())
        d.append(f"- warming {warm['tiles']:,} tiles, one connection: anonymous {warm['anonymous']['seconds']:.1f} s "
                 f"(statuses {statuses(warm['anonymous'])}), then with the token {warm['token']['seconds']:.1f} s "
                 f"(statuses {statuses(warm['token'])}); the same bytes for {warm['same_bytes']:,}")
    d.append(f"- server: start-up {srv['startup_ms']:.0f} ms; RSS {mib(srv['rss_kb_before'])} before the timed runs, "
             f"{mib(srv['rss_kb_after'])} after, peak {mib(srv['hwm_kb'])}; checks stored {srv['records']:,}; "
             f"shutdown: {srv['stop']}")
    d.append("")
    return rows, d


def landuse_section(r):
    """Issue 23: the city-wide land-use layer's import against ogr2ogr, and the land-use answer
    per site (area per 地类编码) against PostGIS and SpatiaLite GROUP BY dlbm."""
    rows, details = [], []
    tsv = os.path.join(r, "landuse_import_runs.tsv")
    lu = read_json(os.path.join(r, "landuse_check.json"))
    if os.path.exists(tsv):
        runs, med, rss = timed_runs(tsv)
        ratio = med["ogr2ogr_landuse"] / med["onemap_landuse"]
        count = f"{lu['features']:,} " if lu else ""
        rows.append([f"import {count}land-use 图斑 (GeoPackage, EPSG:4549 → 4490)",
                     f"{fmt_s(med['onemap_landuse'])}, peak {rss['onemap_landuse']:.0f} MiB",
                     f"{fmt_s(med['ogr2ogr_landuse'])}, peak {rss['ogr2ogr_landuse']:.0f} MiB (ogr2ogr)", "—",
                     f"{ratio:.2f}× (ogr2ogr ÷ OneMap); issue 23 target ≥ 2×: {mark(ratio >= 2)} "
                     f"{'met' if ratio >= 2 else 'not met'}", "—"])
        details.append("### Land-use layer (issue 23)")
        details.append("")
        details.append("Import: `onemap load --catalog` of the land-use layer alone (validation of every 图斑's "
                       "地类编码, 扣除系数, 图斑地类面积 and 坐落单位代码, repair, CGCS2000 geodesic areas, R*Tree) "
                       "against `ogr2ogr -f SQLite -dsco SPATIALITE=YES -t_srs EPSG:4490` (no validation, no "
                       "repair, no areas; SpatiaLite's R*Tree). Each run writes a new file; alternating.")
        details += run_lines(runs)
        details.append("")
    topo_tsv, topo = os.path.join(r, "landuse_topology_runs.tsv"), read_json(os.path.join(r, "landuse_topology.json"))
    if os.path.exists(topo_tsv) and topo:
        with open(topo_tsv) as f:
            _e, _run, secs, rss = f.read().split("\n")[0].split("\t")
        o, g = topo["overlaps"], topo["gaps"]
        rows.append([f"land-use topology report ({topo['features']:,} 图斑; `onemap topology`, what `onemap load` adds "
                     f"by default): overlaps, and gaps inside {topo['boundary'].split(':')[0]}'s counties",
                     f"{float(secs):.1f} s, peak {int(rss) / 1024:.0f} MiB", "—", "—",
                     f"no peer; found {o['count']} overlaps ({o['areaM2']:.1f} m²), {g['count']} gaps ({g['areaM2']:.1f} m²)", "—"])
    if lu:
        if not details:
            details += ["### Land-use layer (issue 23)", ""]
        eng = lu["engines"]
        groups = sorted(lu["groups"].items(), key=lambda kv: kv[1]["postgis_over_onemap_full"])
        for g, x in groups:
            m = {n: eng[n]["median_ms"][g] for n in eng}
            agree = [("OneMap", x["onemap_vs_postgis"]), ("OneMap full", x["onemap_full_vs_postgis"]),
                     ("SpatiaLite", x["spatialite_vs_postgis"])]
            rows.append([f"land-use answer per site, {g} ({x['sites']} sites, median {x['codes_median']:g} 地类 codes); "
                         f"{lu['features']:,} 图斑",
                         f"{ms(m['onemap_full'])} full check; {ms(m['onemap'])} land use alone",
                         ms(m["spatialite"]), ms(m["postgis"]),
                         f"{x['postgis_over_onemap_full']:.2f}× (PostGIS ÷ OneMap full; target ≥ 5×: "
                         f"{mark(x['postgis_over_onemap_full'] >= 5)}), {x['spatialite_over_onemap_full']:.2f}× "
                         f"(SpatiaLite ÷ OneMap full; target ≥ 3×: {mark(x['spatialite_over_onemap_full'] >= 3)})",
                         "; ".join(f"{who} {mark(c['equal'])} ({c['pairs']} codes, max Δ {c['max_rel_area_diff']:.1e} rel"
                                   + (f", {c['mismatch_count']} off" if not c['equal'] else "") + ")"
                                   for who, c in agree)])
        details.append(f"The land-use answer per site: the ellipsoidal area of site ∩ 图斑 per 地类编码 (gross), "
                       f"over {lu['features']:,} 图斑 covering the city; the bench's {lu['sites']} sites; median "
                       f"per site per bucket, median over {lu['runs']} alternating passes. Answers per site and code "
                       f"against PostGIS within {lu['rel_tol']:g} relative or {lu['abs_tol_m2']:g} m².")
        for n, e in eng.items():
            details.append(f"- {n}: {e['label']}; {e['version']}")
        details.append("")
    led = read_json(os.path.join(r, "landuse_ledger.json"))
    if led:
        x = led["postgis_over_onemap"]
        rows.append([f"land-use ledger by township ({led['townships']} townships from ZLDWDM, {led['figures']:,} "
                     f"township × code figures)", fmt_s(led["onemap_s"]), "—", fmt_s(led["postgis_s"]),
                     f"{x:.1f}× (PostGIS ÷ OneMap; target ≥ 20×: {mark(x >= 20)})",
                     f"{mark(led['equal'])} (max Δ {led['max_rel_diff']:.1e} rel"
                     + (f", {led['mismatch_count']} off" if not led["equal"] else "") + ")"])
        details.append("Ledger by township: `onemap ledger --layers landuse --by township --format json` (a fresh "
                       "process: opening the store counts) against the analyst's PostGIS SQL, alternating: "
                       f"`{led['postgis_sql']}`. Runs: OneMap "
                       + ", ".join(f"{v:.2f} s" for v in led["onemap_s_by_run"]) + "; PostGIS "
                       + ", ".join(f"{v:.2f} s" for v in led["postgis_s_by_run"]) + ".")
        details.append("")
    lt = read_json(os.path.join(r, "landuse_tiles.json"))
    if lt:
        for z, zs in sorted(lt["zooms"].items(), key=lambda kv: int(kv[0])):
            zi = int(z)
            target = 20 if zi <= 12 else 2 if zi >= 14 else None
            x = zs["postgis_over_onemap"]
            cover = zs.get("coverage")
            cover_text = ""
            if cover:
                ratios = [c["cover_ratio"] for c in cover if c["cover_ratio"]]
                ok = all(abs(v - 1) <= 0.05 for v in ratios)
                cover_text = f"; coverage {min(ratios):.3f}–{max(ratios):.3f} of the data's area {mark(ok)}"
            rows.append([f"land-use cold tile z{z} ({len(zs['onemap']['ms_by_run'])} runs)",
                         f"{ms(zs['onemap']['ms_per_tile'])}, max {zs['onemap']['max_bytes'] / 1024:.0f} KiB "
                         f"{mark(zs['onemap']['max_bytes'] <= lt['budget_bytes'])}",
                         "—", f"{ms(zs['postgis']['ms_per_tile'])}, max {zs['postgis']['max_bytes'] / 1024:.0f} KiB",
                         f"{x:.1f}× (PostGIS ÷ OneMap" + (f"; target ≥ {target}×: {mark(x >= target)}" if target else "") + ")",
                         "—" + cover_text])
        details.append("Land-use tiles: cold, one connection, a freshly started OneMap server per run (its first "
                       "tile, outside the list, reads the layer into memory and is not timed) against PostGIS "
                       "ST_AsMVT (Martin's table-source query, every column). OneMap's overview tiles merge 图斑 "
                       "by 一级类; coverage is the area OneMap's polygons cover in the tile square against the "
                       "data's own (PostGIS, Web Mercator).")
        details.append("")
    mem = read_json(os.path.join(r, "landuse_memory.json"))
    if mem:
        rows.append(["server memory, everything loaded at this scale (the bench catalog with the city's land use; "
                     "tiles of every zoom and checks served)", f"RSS {mem['rss_kb'] / 1048576:.2f} GiB, peak "
                     f"{mem['hwm_kb'] / 1048576:.2f} GiB of {mem['machine_gib']:.0f} GiB", "—", "—", "—", "—"])
    return rows, details


def archives_section(r):
    """Issue 26: the farmland to z0–z14 MBTiles, onemap tiles export against ogr2ogr -f MBTILES."""
    rows, details = [], []
    tsv = os.path.join(r, "archives_runs.tsv")
    if not os.path.exists(tsv):
        return rows, details
    runs, med, rss = timed_runs(tsv)
    ans = read_json(os.path.join(r, "archives_answers.json")) or {}
    o, g = ans.get("onemap", {}), ans.get("ogr2ogr", {})
    ratio = med["ogr2ogr_mbtiles"] / med["onemap_export"]
    small = o.get("largest", 1 << 30) <= 500 * 1024
    verdict = (f"z14 holds {o.get('z14_parcels', 0):,} of {ans.get('parcels', 0):,} parcels (OneMap) and "
               f"{g.get('z14_parcels', 0):,} (GDAL), read back by GDAL's MBTiles driver; "
               f"OneMap's largest tile {kib(o.get('largest', 0))} {mark(small)} ≤ 500 KiB")
    rows.append(["farmland to z0–z14 MBTiles (`onemap tiles export` against GDAL's MVT writer)",
                 f"{fmt_s(med['onemap_export'])}, {o.get('tiles', 0):,} tiles, {o.get('bytes', 0) / 1e6:.1f} MB, "
                 f"largest {kib(o.get('largest', 0))}",
                 f"{fmt_s(med['ogr2ogr_mbtiles'])} (ogr2ogr -f MBTILES), {g.get('tiles', 0):,} tiles, "
                 f"{g.get('bytes', 0) / 1e6:.1f} MB, largest {kib(g.get('largest', 0))}", "—",
                 f"{ratio:.1f}× (ogr2ogr ÷ OneMap); issue 26 target ≥ 5×: {mark(ratio >= 5)}", verdict])
    serving = read_json(os.path.join(r, "archives_serving.json"))
    if serving and serving.get("onemap") and serving.get("nginx"):
        rate = {e: statistics.median(w["requests"] / (w["duration_us"] / 1e6) for w in serving[e]) for e in ("onemap", "nginx")}
        p99 = {e: statistics.median(w["latency_us"]["p99"] / 1000 for w in serving[e]) for e in ("onemap", "nginx")}
        bad = sum(w["non2xx"] + sum(w["errors"].values()) for e in ("onemap", "nginx") for w in serving[e])
        share = rate["onemap"] / rate["nginx"]
        rows.append([f"warm tiles from the archive under wrk ({serving['tiles']:,} farmland tiles z{serving['min_zoom']}–z14, gzip): "
                     "`onemap serve --tiles a.pmtiles` (no database) against nginx serving them as files",
                     f"{rate['onemap']:,.0f} req/s, p99 {p99['onemap']:.1f} ms",
                     f"nginx: {rate['nginx']:,.0f} req/s, p99 {p99['nginx']:.1f} ms", "—",
                     f"{share:.2f}× nginx's rate; issue 26 target ≥ 0.5×: {mark(share >= 0.5)}",
                     f"non-2xx and socket errors: {bad}"])
    upd_tsv = os.path.join(r, "archives_update_runs.tsv")
    upd_answers = {}
    if os.path.exists(os.path.join(r, "archives_update_answers.jsonl")):
        upd_answers = {a["kind"]: a for a in read_jsonl(os.path.join(r, "archives_update_answers.jsonl"))}
    upd_runs = None
    if os.path.exists(upd_tsv):
        upd_runs, upd_med, _ = timed_runs(upd_tsv)
        ratios = {k: upd_med[f"full_{k}"] / upd_med[f"update_{k}"] for k in ("scattered", "clustered") if f"update_{k}" in upd_med}
        for kind in sorted(ratios, key=lambda k: ratios[k]):   # worst first
            ans = upd_answers.get(kind, {})
            equal = ans.get("differ") == 0 and ans.get("incremental")
            rows.append([f"`tiles export --update` of the z0–z14 archive after 1% of the parcels changed, {kind}",
                         f"{fmt_s(upd_med[f'update_{kind}'])}: re-made {count(ans.get('remade'))} tiles, copied {count(ans.get('copied'))}",
                         f"full export of the new version: {fmt_s(upd_med[f'full_{kind}'])}", "—",
                         f"{ratios[kind]:.1f}× (full ÷ update); issue 26 target ≥ 20×: {mark(ratios[kind] >= 20)}",
                         f"{mark(equal)} tile for tile ({count(ans.get('tiles'))} tiles, {count(ans.get('differ'))} differ)"])
    details.append("### Tile archives (issue 26)")
    details.append("")
    details.append("OneMap: `onemap tiles export --db onemap.sqlite --layers farmland --maxzoom 14 --out a.mbtiles` "
                   "(the server's tiles, every core). Peer: `ogr2ogr -f MBTILES b.mbtiles onemap.sqlite lyr_farmland_N "
                   "-nln farmland -dsco MINZOOM=0 -dsco MAXZOOM=14` (GDAL's defaults otherwise: 500 kB and 200,000 "
                   "features a tile). Same file, same table; alternating.")
    details.append("")
    details += run_lines(runs)
    if upd_runs:
        details.append("- --update: a copy of the database gets a farmland version with 1% of the parcels' 地类名称 changed, "
                       "scattered (every 100th parcel) or clustered (the 1% nearest the layer's centre); the update of a copy of "
                       "OneMap's archive against a full export of that version, alternating:")
        details += ["  " + line for line in run_lines(upd_runs)]
    if serving:
        details.append(f"- serving, {serving['seconds']} s of `wrk -t2 -c8` each, alternating: "
                       + "; ".join(f"{e} " + ", ".join(f"{w['requests'] / (w['duration_us'] / 1e6):,.0f}" for w in serving[e]) + " req/s"
                                   for e in ("onemap", "nginx")))
    for name, d in (("OneMap", o), ("GDAL", g)):
        if d:
            zooms = ", ".join(f"z{z} {n:,}" for z, n in sorted(d["per_zoom"].items(), key=lambda kv: int(kv[0])))
            details.append(f"- {name}: {d['tiles']:,} tiles ({zooms}); largest {kib(d['largest'])} at {d['largest_at']}; "
                           f"z14 misses {d['z14_missing']:,} parcels")
    details.append("")
    return rows, details


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--load", default="unknown", help="load averages (1, 5, 15 min) around the run")
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
    out.append(f"- Load average (1, 5, 15 min): {a.load}; other work running "
               "beside the benchmark slows short passes unevenly, so a busy run's ratios are less sure")
    out.append(f"- GDAL: {cmd_version('ogr2ogr', '--version')}; wrk: {cmd_version('sh', '-c', 'wrk -v 2>&1')}")

    rows, details = [], []
    for section in (import_section(r, a.scale), pgimport_section(r, a.scale), conflict_section(r), http_section(r), tiles_section(r),
                    features_section(r), ledger_section(r), audit_section(r), load_section(r), landuse_section(r),
                    auth_section(r), archives_section(r)):
        rows += section[0]
        details += section[1]

    out.append("")
    out.append("| operation | OneMap | SpatiaLite | PostGIS | pygeoapi | ratio | answers equal |")
    out.append("|---|---|---|---|---|---|---|")
    for row in rows:
        if len(row) == 6:      # rows without a pygeoapi column
            row = row[:4] + ["—"] + row[4:]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.extend(details)
    print("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
