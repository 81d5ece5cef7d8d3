#!/usr/bin/python3
"""Check that `onemap import` and `ogr2ogr` loaded the same farmland: count and total area.

OneMap's total is SUM(om_area_m2), its precomputed geodesic area on CGCS2000 (GRS80),
over geometries it repaired with GEOS MakeValid. ogr2ogr's is SpatiaLite's
SUM(ST_Area(geom, 1)), the ellipsoidal area on the ellipsoid of the geometry's SRID
(4490, so GRS80 as well), over geometries as they came: plain ogr2ogr repairs nothing.
So a few self-intersecting parcels make the raw totals differ; we report that
difference as it is, and beside it the peer's total after MakeValid, which shows
whether the rest of the answer agrees.

Prints one JSON object.
"""
import argparse
import json
import sqlite3

REL_TOL = 1e-6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onemap-db", required=True)
    ap.add_argument("--onemap-layer", default="farmland")
    ap.add_argument("--ogr-db", required=True)
    ap.add_argument("--ogr-table", default="yjjbnt")
    a = ap.parse_args()

    om = sqlite3.connect(a.onemap_db)
    table = om.execute("""SELECT v.table_name FROM onemap_layers l JOIN onemap_layer_versions v
                          ON v.layer = l.name AND v.version = l.current_version WHERE l.name = ?""",
                       (a.onemap_layer,)).fetchone()[0]
    om_count, om_area = om.execute(f'SELECT COUNT(*), SUM(om_area_m2) FROM "{table}"').fetchone()

    sl = sqlite3.connect(a.ogr_db)
    sl.enable_load_extension(True)
    sl.load_extension("mod_spatialite")
    t = a.ogr_table
    ogr_count, ogr_area, invalid = sl.execute(
        f'SELECT COUNT(*), SUM(ST_Area(geom, 1)), SUM(ST_IsValid(geom) = 0) FROM "{t}"').fetchone()
    ogr_area_valid = sl.execute(
        f'SELECT SUM(ST_Area(CASE WHEN ST_IsValid(geom) THEN geom ELSE MakeValid(geom) END, 1)) FROM "{t}"').fetchone()[0]

    rel = abs(om_area - ogr_area) / ogr_area
    rel_valid = abs(om_area - ogr_area_valid) / ogr_area_valid
    print(json.dumps({
        "onemap": {"table": table, "count": om_count, "area_m2": om_area},
        "ogr2ogr": {"count": ogr_count, "area_m2": ogr_area, "invalid": invalid,
                    "area_m2_after_makevalid": ogr_area_valid},
        "count_equal": om_count == ogr_count,
        "rel_area_diff": rel,
        "rel_area_diff_after_makevalid": rel_valid,
        "area_equal": rel <= REL_TOL,
        "area_equal_after_makevalid": rel_valid <= REL_TOL,
        "rel_tol": REL_TOL,
    }, indent=1))


if __name__ == "__main__":
    main()
