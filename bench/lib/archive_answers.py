"""Issue 26's archive row: what each MBTiles file holds, read independently of both writers.

For OneMap's and GDAL's archive of the same farmland: tiles per zoom, file size, the largest
tile (as MVT, before gzip) and where; and whether z14 holds every parcel, which GDAL's own
MBTiles driver (Debian's) reads back from each file: the distinct BSM of the farmland layer
at zoom 14 against the layer's BSM in the SpatiaLite file.

Usage: archive_answers.py --onemap A.mbtiles --ogr B.mbtiles --db onemap.sqlite --table lyr_farmland_1
       archive_answers.py compare --kind K --update U.mbtiles --full F.mbtiles --log UPDATE_STDERR
"""
import argparse
import gzip
import json
import os
import re
import sqlite3
import sys

from osgeo import gdal

gdal.UseExceptions()


def describe(path):
    con = sqlite3.connect(path)
    per_zoom, largest, where, total = {}, 0, None, 0
    for z, x, row, data in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        per_zoom[z] = per_zoom.get(z, 0) + 1
        total += 1
        if len(raw) > largest:
            # Back to XYZ rows for the report.
            largest, where = len(raw), f"{z}/{x}/{(1 << z) - 1 - row}"
    con.close()
    return {"tiles": total, "per_zoom": per_zoom, "bytes": os.path.getsize(path), "largest": largest, "largest_at": where}


def parcels_at_z14(path):
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["ZOOM_LEVEL=14", "CLIP=NO"])
    layer = ds.GetLayerByName("farmland")
    seen = set()
    for f in layer:
        v = f.GetField("BSM") if f.GetFieldIndex("BSM") >= 0 else None
        if v is not None:
            seen.add(v)
    return seen


def tiles(path):
    con = sqlite3.connect(path)
    out = {(z, x, r): gzip.decompress(d) for z, x, r, d in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")}
    con.close()
    return out


def compare():
    """`compare`: an updated archive against a full export of the same version, tile for tile,
    with what the update said it re-made and copied."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True)
    ap.add_argument("--update", required=True)
    ap.add_argument("--full", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args(sys.argv[2:])
    got, want = tiles(a.update), tiles(a.full)
    differ = sum(1 for k in want if got.get(k) != want[k]) + len(set(got) - set(want))
    said = open(a.log).read()
    m = re.search(r"re-made (\d+) tiles over (\d+) changed feature boxes, copied (\d+) unchanged", said)
    out = {"kind": a.kind, "tiles": len(want), "differ": differ, "remade": int(m.group(1)) if m else None,
           "boxes": int(m.group(2)) if m else None, "copied": int(m.group(3)) if m else None, "incremental": m is not None}
    print(json.dumps(out))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        return compare()
    ap = argparse.ArgumentParser()
    ap.add_argument("--onemap", required=True)
    ap.add_argument("--ogr", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--table", required=True)
    a = ap.parse_args()
    con = sqlite3.connect(a.db)
    everyone = {r[0] for r in con.execute(f'SELECT "BSM" FROM "{a.table}"')}
    con.close()
    out = {"parcels": len(everyone)}
    for name, path in (("onemap", a.onemap), ("ogr2ogr", a.ogr)):
        d = describe(path)
        seen = parcels_at_z14(path)
        d["z14_parcels"] = len(seen & everyone)
        d["z14_missing"] = len(everyone - seen)
        out[name] = d
        print(f"{name}: {d['tiles']} tiles, {d['bytes']} bytes, largest {d['largest']} at {d['largest_at']}, "
              f"z14 holds {d['z14_parcels']} of {len(everyone)} parcels", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
