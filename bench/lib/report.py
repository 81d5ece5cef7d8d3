#!/usr/bin/python3
"""Turn one run's results into the markdown table issue 9 asks for.

Reads, from RESULTS, import_runs.tsv, import_answers.json, import_onemap.json (import),
conflict_farmland.json (the conflict check per site, peers and OneMap), and
http_wrk.json, http_server.json, http_answers.json (the API under load). Each group is
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


def import_section(r, scale):
    """Issue 2: onemap import against ogr2ogr into SpatiaLite."""
    rows, details = [], []
    tsv = os.path.join(r, "import_runs.tsv")
    if not os.path.exists(tsv):
        return rows, details
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
    for e, v in runs.items():
        details.append(f"- {e}: " + ", ".join(f"{s:.2f} s / {k / 1024:.0f} MiB" for s, k in v))
    if rep:
        details.append(f"- OneMap repaired {rep.get('repaired', '?')} geometries")
    if ans:
        details.append(f"- total area: OneMap {ans['onemap']['area_m2']:.3f} m² (SUM(om_area_m2)); "
                       f"ogr2ogr {ans['ogr2ogr']['area_m2']:.3f} m² (SUM(ST_Area(geom, 1)), unrepaired), "
                       f"{ans['ogr2ogr']['area_m2_after_makevalid']:.3f} m² after MakeValid")
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


def conflict_section(r):
    """Issue 4: per-site conflict check, farmland only on every engine, and OneMap's full check."""
    cf = read_json(os.path.join(r, "conflict_farmland.json"))
    if not cf:
        return [], []
    eng = cf["engines"]
    sl, pg, rt, om, full = (eng[k] for k in ("spatialite", "postgis", "spatialite_rttopo", "onemap", "onemap_full"))
    ratio = sl["median_ms_per_site"] / om["median_ms_per_site"]
    full_ratio = sl["median_ms_per_site"] / full["median_ms_per_site"]
    n_layers = len(full["layers"])
    rows = [
        [f"conflict check, farmland only, per site ({cf['sites']} sites)",
         ms(om["median_ms_per_site"]), ms(sl["median_ms_per_site"]), ms(pg["median_ms_per_site"]),
         f"{ratio:.2f}× (SpatiaLite ÷ OneMap)",
         agreement_short("OneMap", cf["onemap_vs_postgis"]) + "; "
         + agreement_short("SpatiaLite", cf["spatialite_vs_postgis"])],
        [f"conflict check, OneMap's FULL check ({n_layers} layers with rules) vs the peers' farmland only, per site",
         ms(full["median_ms_per_site"]), ms(sl["median_ms_per_site"]) + " (farmland only)",
         ms(pg["median_ms_per_site"]) + " (farmland only)",
         f"{full_ratio:.2f}× (SpatiaLite farmland ÷ OneMap full); issue 4 target ≥ 3×: "
         + ("✓ met" if full_ratio >= 3 else "✗ not met"),
         agreement_short("OneMap full, its farmland layer,", cf["onemap_full_vs_postgis"])],
    ]

    d = ["### Conflict check per site", ""]
    d.append(f"Per site: the parcels overlapping the site by more than {cf['min_area_m2']:g} m², with the "
             "ellipsoidal overlap area on CGCS2000 (GRS80). Both peers are loaded from the GeoPackage by "
             "`ogr2ogr -makevalid` and get the same site polygons (`bench/data/<scale>/sites.geojson`). "
             "SpatiaLite: `ST_Intersects` + `ST_Intersection`, candidates from the `SpatialIndex` virtual table, "
             "area = planar `ST_Area` after `ST_Transform` to a Lambert azimuthal equal-area projection on GRS80 "
             "centred on Lishui (equal-area, so it is the ellipsoidal area to ~1e-7). PostGIS: `ST_Intersects` "
             "(GiST) + `ST_Intersection`, `ST_Area(geography)` (GeographicLib's algorithm). "
             "OneMap: `onemap check sites.geojson --each [--layers farmland] --no-record --format json` on a "
             "database loaded by `onemap load` from the repo's `Layers/*.yaml` (rules and all) pointed at this "
             "scale's files (`bench/data/<scale>/catalog/`); it times each check itself, leaving out process "
             "start-up and one warm-up check. Time: per site as a client sees it (PostGIS over its Unix socket; "
             "the peers from Debian's Python, OneMap in its own process), mean over the sites, median over "
             "passes; one untimed warm-up pass each; engines alternate. Areas agree when within "
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


def http_section(r):
    """Issue 4 + 9: POST /v1/checks under wrk, and the server's memory and start-up."""
    w = read_json(os.path.join(r, "http_wrk.json"))
    srv = read_json(os.path.join(r, "http_server.json"))
    ans = read_json(os.path.join(r, "http_answers.json"))
    if not (w and srv and ans):
        return [], []
    rps = w["requests"] / (w["duration_us"] / 1e6)
    lat = w["latency_us"]
    socket_errors = sum(v for k, v in w["errors"].items() if k != "status")
    ok = w["non2xx"] == 0 and socket_errors == 0
    acknowledged = ans["posted"] - ans["not_201_count"] + w["requests"] - w["non2xx"]
    records_ok = srv["records"] >= acknowledged
    answers = (f"non-2xx {w['non2xx']} {mark(w['non2xx'] == 0)}, socket errors {socket_errors}; "
               f"before the load, the {ans['posted']} sites one by one: "
               f"{agreement_short('farmland', ans['farmland_vs_postgis']) if ans['not_201_count'] == 0 else '✗ ' + str(ans['not_201_count']) + ' not 201'}, "
               f"full answer = CLI's {mark(ans['full_equal_to_cli'])}; "
               f"records stored {srv['records']:,} ≥ acknowledged {acknowledged:,} {mark(records_ok)}")
    mib = lambda kb: f"{kb / 1024:.0f} MiB"
    rows = [
        [f"HTTP `POST /v1/checks` (full check), wrk {srv['threads']} threads × {srv['connections']} connections, "
         f"{srv['seconds']} s, 127.0.0.1",
         f"{rps:,.0f} req/s; p50 {lat['p50'] / 1000:.2f} ms, p99 {lat['p99'] / 1000:.2f} ms",
         "—", "—", "—", answers],
        ["server RSS (`onemap serve`, VmRSS)",
         f"{mib(srv['rss_kb_idle'])} idle → {mib(srv['rss_kb_after'])} after the load (peak {mib(srv['hwm_kb'])})",
         "—", "—", "—", "—"],
        ["server start-up to first `GET /health` 200", f"{srv['startup_ms']:.0f} ms", "—", "—", "—", "—"],
    ]
    d = ["### HTTP", ""]
    d.append(f"`onemap serve --db COPY --open --port {srv['port']}` on a throwaway copy of the benchmark database "
             "(every POST stores a record). Start-up: from launching the process to the first 200 from "
             "`GET /health`, polled with curl every 5 ms. Then the "
             f"{ans['posted']} sites are posted one at a time and their answers checked (this also warms the server), "
             f"then `wrk -t{srv['threads']} -c{srv['connections']} -d{srv['seconds']}s --latency -s bench/lib/wrk_checks.lua` "
             "posts the same GeoJSON Feature bodies in turn (`Content-Type: application/json`). "
             "The server is stopped with SIGTERM at the end.")
    d.append("")
    d.append(f"- wrk: {w['requests']:,} requests in {w['duration_us'] / 1e6:.1f} s = {rps:,.1f} req/s; latency min "
             f"{lat['min'] / 1000:.2f}, mean {lat['mean'] / 1000:.2f}, p50 {lat['p50'] / 1000:.2f}, p90 {lat['p90'] / 1000:.2f}, "
             f"p99 {lat['p99'] / 1000:.2f}, max {lat['max'] / 1000:.2f} ms; non-2xx {w['non2xx']}"
             + (f" (first status {w['first_non2xx_status']})" if w["non2xx"] else "")
             + "; socket errors " + ", ".join(f"{k} {v}" for k, v in w["errors"].items() if k != "status"))
    d.append(f"- one request at a time, unloaded: p50 {ans['unloaded_ms']['p50']:.2f} ms, mean "
             f"{ans['unloaded_ms']['mean']:.2f} ms, max {ans['unloaded_ms']['max']:.2f} ms (Python urllib client)")
    if ans["not_201_count"] == 0:
        d.append("- farmland answers over HTTP against PostGIS: " + agreement(
            {"rel_tol": 1e-6, "abs_tol_m2": 1e-4}, ans["farmland_vs_postgis"]))
    else:
        d.append(f"- {ans['not_201_count']} of {ans['posted']} posts did not answer 201, e.g. {ans['not_201'][:2]}")
    if ans["full_differs_from_cli"]:
        d.append(f"- full answers differ from the CLI's at: {', '.join(ans['full_differs_from_cli'][:20])}")
    d.append(f"- RSS: {srv['rss_kb_idle']:,} kB after start-up, {srv['rss_kb_after']:,} kB after the load, "
             f"peak (VmHWM) {srv['hwm_kb']:,} kB; shutdown: {srv['stop']}")
    d.append("")
    return rows, d


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
    for section in (import_section(r, a.scale), conflict_section(r), http_section(r)):
        rows += section[0]
        details += section[1]

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
