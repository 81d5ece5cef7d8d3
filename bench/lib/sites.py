#!/usr/bin/python3
"""Make the 100 benchmark project sites (项目用地红线) for the conflict check.

Each site is a rotated rectangle, 150-400 m a side, centred near the centroid of a
farmland parcel picked with a fixed seed, so sites fall where farmland is (along the
valleys) and every engine has real work to do. Rectangles are built in metres in the
GeoPackage's own CRS (CGCS2000 3-degree Gauss-Krueger zone 40, EPSG:4528) and then
transformed to CGCS2000 longitude/latitude (EPSG:4490) by SpatiaLite's PROJ.

Coordinates are written with 9 decimals (~0.1 mm) and every engine reads them back
from the written file, so all engines check exactly the same polygons.

Writes OUT/sites.geojson (all sites, one feature each, for the peers) and
OUT/sites/S001.geojson ... (one file per site, for `onemap check FILE`).

Needs Debian's /usr/bin/python3, whose sqlite3 module can load mod_spatialite.
"""
import argparse
import json
import math
import os
import random
import sqlite3


def spatialite(path):
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpkg", required=True)
    ap.add_argument("--layer", default="yjjbnt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    gpkg = spatialite(a.gpkg)
    fids = [r[0] for r in gpkg.execute(f'SELECT fid FROM "{a.layer}" ORDER BY fid')]
    picked = rng.sample(fids, a.count)

    # A scratch SpatiaLite database that knows just the two CRSs we transform between.
    mem = spatialite(":memory:")
    mem.execute("SELECT InitSpatialMetadata(1, 'NONE')")
    mem.execute("SELECT InsertEpsgSrid(4528)")
    mem.execute("SELECT InsertEpsgSrid(4490)")
    # The GeoPackage must be in zone 40 for the metre arithmetic below to mean metres.
    srs = gpkg.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (a.layer,)).fetchone()[0]
    if srs != 4528:
        raise SystemExit(f"sites.py: {a.gpkg} layer {a.layer} is EPSG:{srs}, expected EPSG:4528")

    features = []
    for n, fid in enumerate(picked, start=1):
        bsm, cx, cy = gpkg.execute(
            f'SELECT BSM, ST_X(c), ST_Y(c) FROM (SELECT BSM, ST_Centroid(GeomFromGPB(geom)) AS c '
            f'FROM "{a.layer}" WHERE fid = ?)', (fid,)).fetchone()
        width = rng.uniform(150, 400)
        height = rng.uniform(150, 400)
        angle = rng.uniform(0, 180)
        # Up to 60 m off the centroid, so sites don't all sit symmetric on one parcel.
        off, bearing = rng.uniform(0, 60), rng.uniform(0, 2 * math.pi)
        cx += off * math.cos(bearing)
        cy += off * math.sin(bearing)
        t = math.radians(angle)
        corners = []
        for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):  # counter-clockwise
            x, y = dx * width / 2, dy * height / 2
            corners.append((cx + x * math.cos(t) - y * math.sin(t), cy + x * math.sin(t) + y * math.cos(t)))
        wkt = "POLYGON((" + ",".join(f"{x:.4f} {y:.4f}" for x, y in corners) + "))"
        geojson = mem.execute("SELECT AsGeoJSON(ST_Transform(GeomFromText(?, 4528), 4490), 9)", (wkt,)).fetchone()[0]
        geometry = json.loads(geojson)
        site_id = f"S{n:03d}"
        features.append({
            "type": "Feature",
            "properties": {"site": site_id, "near_fid": fid, "near_bsm": bsm,
                           "width_m": round(width, 1), "height_m": round(height, 1), "angle_deg": round(angle, 1)},
            "geometry": geometry,
        })

    os.makedirs(os.path.join(a.out, "sites"), exist_ok=True)
    with open(os.path.join(a.out, "sites.geojson"), "w") as f:
        json.dump({"type": "FeatureCollection", "name": "bench_sites", "features": features}, f, ensure_ascii=False)
        f.write("\n")
    for feat in features:
        with open(os.path.join(a.out, "sites", feat["properties"]["site"] + ".geojson"), "w") as f:
            json.dump(feat, f, ensure_ascii=False)
            f.write("\n")
    print(f"{len(features)} sites -> {os.path.join(a.out, 'sites.geojson')}")


if __name__ == "__main__":
    main()
