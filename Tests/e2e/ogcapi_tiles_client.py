"""GDAL's OGCAPI driver reads OneMap's OGC API – Tiles (issue 22): the landing links, the
tilesets, a tileset's metadata and its tile matrix set, then the tiles themselves.

Debian 12's GDAL 3.6.2 cannot be the client: its OGCAPI driver was built without the vector
tile code (that code sits behind OGR_ENABLE_DRIVER_GML, which GDAL's CMake set too late for
this driver until 3.7.1, OSGeo/gdal#7993), so it opens no layer from any server. The GDAL
that PyPI's `pyogrio` wheel bundles (3.9 or later) has it, and reads the file with its SQLite
driver too, so both sides of the comparison come from one GDAL that shares no code with OneMap.

Run by `clients_e2e.py` with the Python that has `pyogrio` (the one `make test-deps` installs
into); prints one JSON object of findings for the caller to check.

Usage: python3 ogcapi_tiles_client.py BASE_URL DB_FILE TABLE
"""
import json
import sys
import time

import pyogrio
import pyogrio.raw as raw

# A box of the sample's farmland in 莲都 (lon/lat), about 5 km across: 70-odd parcels.
BOX = (119.90, 28.40, 119.95, 28.45)
# A parcel cut at the box's edge may show in one reading and not the other; only those
# within this margin (degrees, ~10 m) of the edge may differ.
EDGE = 0.0001


def bsm(path, layer, box, **options):
    _, _, _, fields = raw.read(path, layer=layer, bbox=box, columns=["BSM"], read_geometry=False, **options)
    return [str(v) for v in fields[0]]


def main():
    base, db, table = sys.argv[1], sys.argv[2], sys.argv[3]
    url = f"OGCAPI:{base}/collections/farmland"
    found = {"gdal": pyogrio.__gdal_version_string__}
    # With no option GDAL takes the first tileset listed (or WorldCRS84Quad, which OneMap
    # does not serve): every advertised tile matrix must be a layer of it.
    found["layers"] = [str(n) for n, _ in pyogrio.list_layers(url)]
    found["crs"] = pyogrio.read_info(url, layer="Zoom level 14")["crs"]
    inner = (BOX[0] + EDGE, BOX[1] + EDGE, BOX[2] - EDGE, BOX[3] - EDGE)
    outer = (BOX[0] - EDGE, BOX[1] - EDGE, BOX[2] + EDGE, BOX[3] + EDGE)
    found["file"] = {"inner": sorted(set(bsm(db, table, inner))), "outer": sorted(set(bsm(db, table, outer)))}
    found["tiles"] = {}
    for level in (13, 14):
        started = time.monotonic()
        got = bsm(url, f"Zoom level {level}", BOX, TILEMATRIXSET="CGCS2000Quad")
        found["tiles"][str(level)] = {"bsm": sorted(set(got)), "pieces": len(got), "seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(found, ensure_ascii=False))


if __name__ == "__main__":
    main()
