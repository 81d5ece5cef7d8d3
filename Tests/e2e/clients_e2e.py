#!/usr/bin/python3
"""Standard GIS clients read OneMap as a user's desktop would (issue 22), checked against an
independent reading of the same database.

The sample catalog is loaded into a fresh SpatiaLite file and served with `onemap serve
--open`. What is expected comes from GDAL's SQLite driver reading that file directly (`ogrinfo`,
a reader that shares no code with OneMap): each layer's count, extent, and the count in a box.
Then:

- QGIS (headless, `python3-qgis`): every collection through its OAPIF provider (count, extent,
  a bbox request); every layer table through its SpatiaLite provider (count and extent, which
  need `geometry_columns_statistics`); the farmland's vector tiles (a tile decoded, its
  features counted) with the one-map style converted by QGIS's MapLibre style converter, and
  the map rendered to an image that must show the layer.
- GDAL's OAPIF driver (`ogrinfo OAPIF:…`): every collection's count.
- GDAL's OGCAPI driver (the GDAL in PyPI's `pyogrio`, run by `ogcapi_tiles_client.py` under
  `--gdal-python`; Debian's 3.6 has no vector tiles in that driver): the farmland's tilesets
  open with a layer per advertised tile matrix, in EPSG:4490, and the parcels read from its
  z13 and z14 tiles over a box are the parcels the file has there.
- OWSLib (`owslib.ogcapi.features`): conformance, collections, and `numberMatched` of a bbox
  query.

Prints one line per check and exits 1 on any failure. Runs with Debian's own python3, the one
QGIS's bindings are built for.

Usage: /usr/bin/python3 Tests/e2e/clients_e2e.py [--binary .build/debug/onemap]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_server import free_port, load_sample, stop, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A box over part of the sample (Liandu and Qingtian), lon/lat.
BOX = (119.80, 28.30, 120.20, 28.60)

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def close(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def ogr_summary(db, table, spat=None):
    """(count, (minx, miny, maxx, maxy)) of a table as GDAL's SQLite driver reads the file."""
    cmd = ["ogrinfo", "-ro", "-so", db, table]
    if spat:
        cmd[3:3] = ["-spat", *map(str, spat)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    count = int(re.search(r"Feature Count: (\d+)", out).group(1))
    m = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out)
    return count, tuple(float(v) for v in m.groups()) if m else None


def get_json(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    ap.add_argument("--gdal-python", default="python3", help="a Python with pyogrio (make test-deps installs it)")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)

    work = tempfile.mkdtemp(prefix="onemap-clients-")
    db = load_sample(binary, work, ROOT)
    layers = json.loads(subprocess.run([binary, "layers", "--db", db, "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "serve.log"), "wb")
    server = subprocess.Popen([binary, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port), "--open"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(base + "/health")
        expected = {}
        for layer in layers:
            name, version = layer["name"], layer["versionNumber"]
            table = f"lyr_{name}_{version}"
            count, extent = ogr_summary(db, table)
            in_box, _ = ogr_summary(db, table, BOX)
            expected[name] = (table, count, extent, in_box)
            check(count == layer["count"], f"ogrinfo: {table} has {count} features, as `onemap layers` says")
        run_gdal(base, expected)
        run_ogcapi_tiles(args.gdal_python, base, db, expected["farmland"][0])
        run_owslib(base, expected)
        run_qgis(base, db, expected)
    finally:
        stop(server)
    if failures:
        print(f"{len(failures)} client checks failed:")
        for f in failures:
            print("  " + f)
    else:
        print("clients: ok")
    sys.stdout.flush()
    # Without QGIS's own teardown, which crashes in 3.22 when providers it opened are still
    # registered (a segfault after every check has passed would fail the run for nothing).
    os._exit(1 if failures else 0)


def run_qgis(base, db, expected):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsFeatureRequest, QgsMapRendererParallelJob,
                           QgsMapSettings, QgsRectangle, QgsVectorLayer, QgsVectorTileLayer)
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    app = QgsApplication([], False)
    app.initQgis()
    if app:
        for name, (table, count, extent, in_box) in expected.items():
            # OAPIF: the collection as QGIS's WFS provider pages through it.
            oapif = QgsVectorLayer(f"url='{base}' typename='{name}' pagingEnabled='true' preferCoordinatesForWfsT11='false'",
                                   name, "OAPIF")
            check(oapif.isValid(), f"QGIS OAPIF opens {name}")
            if not oapif.isValid():
                continue
            n = sum(1 for _ in oapif.getFeatures())
            check(n == count, f"QGIS OAPIF {name}: {n} features read, {count} in the file")
            e = oapif.extent()
            check(close((e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()), extent, 1e-5),
                  f"QGIS OAPIF {name}: extent {e.toString(6)} against {extent}")
            request = QgsFeatureRequest().setFilterRect(QgsRectangle(*BOX))
            # QGIS keeps features whose box meets the rectangle; the file's reader tests geometry.
            got = sum(1 for f in oapif.getFeatures(request) if f.geometry().intersects(QgsRectangle(*BOX)))
            check(got == in_box, f"QGIS OAPIF {name}: {got} features in the box, {in_box} in the file")

            # The SpatiaLite provider on the file itself.
            lite = QgsVectorLayer(f"dbname='{db}' table=\"{table}\" (geom)", table, "spatialite")
            check(lite.isValid(), f"QGIS SpatiaLite opens {table}")
            if lite.isValid():
                check(lite.featureCount() == count, f"QGIS SpatiaLite {table}: featureCount {lite.featureCount()}, {count} in the file")
                e = lite.extent()
                check(close((e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()), extent, 1e-5),
                      f"QGIS SpatiaLite {table}: extent {e.toString(6)} against {extent}")

        # Vector tiles of the farmland with the one-map style, rendered.
        from qgis.core import QgsMapBoxGlStyleConversionContext, QgsMapBoxGlStyleConverter, QgsTileXYZ
        vt = QgsVectorTileLayer(f"type=xyz&url={base}/tiles/farmland/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=16", "farmland tiles")
        check(vt.isValid(), "QGIS opens the farmland's vector tiles")
        # The z14 tile over the first farmland parcel the server lists.
        first = get_json(base + "/collections/farmland/items?limit=1&f=json")["features"][0]["geometry"]["coordinates"]
        while isinstance(first[0], list):
            first = first[0]
        tile = QgsTileXYZ(*_tile_of(first[0], first[1], 14))
        # QGIS 3.22 keeps its MVT decoder from Python: GDAL's MVT driver decodes the tile.
        path = f"/tiles/farmland/{tile.zoomLevel()}/{tile.column()}/{tile.row()}.mvt"
        with urllib.request.urlopen(base + path, timeout=60) as r:  # no Accept-Encoding: the bytes as MVT
            raw = r.read()
        mvt = os.path.join(os.path.dirname(db), "tile.mvt")
        with open(mvt, "wb") as f:
            f.write(raw)
        out = subprocess.run(["ogrinfo", "-ro", "-so", "-oo", f"Z={tile.zoomLevel()}", "-oo", f"X={tile.column()}",
                              "-oo", f"Y={tile.row()}", mvt, "farmland"], capture_output=True, text=True).stdout
        m = re.search(r"Feature Count: (\d+)", out)
        check(m is not None and int(m.group(1)) > 0, f"GDAL's MVT driver decodes {path}: {m.group(1) if m else 'no'} farmland features")
        style = get_json(base + "/styles/onemap.json")
        converter = QgsMapBoxGlStyleConverter()
        result = converter.convert(style, QgsMapBoxGlStyleConversionContext())
        check(result == QgsMapBoxGlStyleConverter.Success, f"QGIS converts the one-map style: {converter.errorMessage()}")
        renderer = converter.renderer()
        check(renderer is not None and len(renderer.styles()) > 0, "the converted style has rendering rules")
        vt.setRenderer(renderer.clone())
        settings = QgsMapSettings()
        settings.setLayers([vt])
        settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        settings.setExtent(QgsRectangle(*_tile_bounds_3857(tile.zoomLevel(), tile.column(), tile.row())))
        settings.setOutputSize(QSize(256, 256))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        # Drawn: pixels of a colour other than the map's most common one (the background, or
        # the style's own background layer), where the parcels are.
        from collections import Counter
        colours = Counter(image.pixel(x, y) for x in range(0, 256, 4) for y in range(0, 256, 4))
        drawn = sum(colours.values()) - colours.most_common(1)[0][1]
        check(drawn > 20, f"QGIS renders the farmland tile with the style: {drawn} of 4096 sampled pixels drawn")
        image.save(os.path.join(os.path.dirname(db), "qgis-farmland-tile.png"))


def _tile_of(lon, lat, z):
    """(column, row, zoom) of the Web Mercator tile holding a point."""
    import math
    n = 1 << z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n), z


def _tile_bounds_3857(z, x, y):
    half = 20037508.342789244
    size = 2 * half / (1 << z)
    return (-half + x * size, half - (y + 1) * size, -half + (x + 1) * size, half - y * size)


def run_gdal(base, expected):
    for name, (_, count, _, _) in expected.items():
        out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{base}/collections/{name}", name],
                             capture_output=True, text=True)
        m = re.search(r"Feature Count: (\d+)", out.stdout)
        got = int(m.group(1)) if m else None
        check(got == count, f"GDAL OAPIF {name}: Feature Count {got}, {count} in the file")


def run_ogcapi_tiles(python, base, db, table):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ogcapi_tiles_client.py")
    out = subprocess.run([python, script, base, db, table], capture_output=True, text=True)
    if out.returncode != 0:
        check(False, f"GDAL's OGCAPI driver ran: {out.stderr.strip()[-800:]}")
        return
    found = json.loads(out.stdout)
    gdal = f"GDAL {found['gdal']} OGCAPI"
    tileset = get_json(base + "/collections/farmland/tiles/CGCS2000Quad")
    levels = [f"Zoom level {limit['tileMatrix']}" for limit in tileset["tileMatrixSetLimits"]]
    check(found["layers"] == levels, f"{gdal}: the farmland opens with a layer per tile matrix: {found['layers']}")
    check(found["crs"] == "EPSG:4490", f"{gdal}: the tiles are in {found['crs']}")
    inner, outer = set(found["file"]["inner"]), set(found["file"]["outer"])
    check(len(inner) > 20, f"the file has {len(inner)} farmland parcels in the client's box")
    for level, got in found["tiles"].items():
        bsm = set(got["bsm"])
        check(inner <= bsm <= outer,
              f"{gdal} z{level}: {len(bsm)} parcels ({got['pieces']} tile pieces, {got['seconds']} s) "
              f"against {len(inner)}–{len(outer)} in the file; missing {sorted(inner - bsm)[:5]}, extra {sorted(bsm - outer)[:5]}")


def run_owslib(base, expected):
    from owslib.ogcapi.features import Features
    w = Features(base)
    classes = w.conformance().get("conformsTo", [])
    check("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes, "OWSLib reads the conformance")
    ids = {c["id"] for c in w.collections()["collections"]}
    check(ids == set(expected), f"OWSLib lists the collections: {sorted(ids)}")
    for name, (_, count, _, in_box) in expected.items():
        everything = w.collection_items(name, limit=1)
        check(everything.get("numberMatched") == count, f"OWSLib {name}: numberMatched {everything.get('numberMatched')}, {count}")
        boxed = w.collection_items(name, bbox=list(BOX), limit=1)
        check(boxed.get("numberMatched") == in_box, f"OWSLib {name} in the box: {boxed.get('numberMatched')}, {in_box}")


if __name__ == "__main__":
    main()
