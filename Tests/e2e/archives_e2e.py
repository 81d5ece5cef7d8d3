"""Tile archives (issue 26), read by clients that share no code with OneMap.

The sample catalog is loaded into a fresh SpatiaLite file, then `onemap tiles export` writes:
- the farmland as PMTiles (z0–z14), read with PyPI's `pmtiles` reader: the header (clustered,
  gzip, MVT, zooms, counts that add up), the metadata's `vector_layers`, and every tile, each
  of which GDAL's MVT driver (the GDAL in `pyogrio`) decodes with the layer's fields; 200 tiles
  drawn at random are byte for byte the server's `/tiles/farmland/z/x/y.mvt`;
- the land use at z17–z19 over a box, enough tiles that the directory needs leaf directories;
- the one-map style as MBTiles, opened by Debian's GDAL MBTiles driver (`ogrinfo`), its
  `metadata` and rows (counted from the bottom, as TMS) checked with sqlite3, and the same on
  the CGCS2000 grid, named in its metadata.
`onemap serve --tiles` answers from the PMTiles with no database (the archive's bytes at the
server's URLs, gzip or not, ETag and 304, 204 where the archive has no tile, TileJSON, 404
naming what it serves), and from the MBTiles beside a database (the composite from the archive,
the layers made on demand); truncated, short, foreign and wrong-version archives are refused
at start, saying what is wrong.
`--update` after a new farmland version (parcels renamed, moved and removed) re-makes only the
tiles over the changes and gives, tile for tile, what a full export of the new version gives.
Then what must fail, fails clearly and leaves nothing behind: an export interrupted with
SIGINT (no file at the output, no partial file), PMTiles on the CGCS2000 grid, a directory
that does not exist, an unknown layer (an existing archive at the output is left as it was).

Usage: python3 Tests/e2e/archives_e2e.py [--binary .build/debug/onemap]
"""
import argparse
import gzip
import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_server import Checks, free_port, load_sample, stop, wait_http  # noqa: E402

import pyogrio.raw  # noqa: E402
from pmtiles.reader import MmapSource, Reader, all_tiles  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
check = Checks()


def export(binary, db, *args):
    return subprocess.run([binary, "tiles", "export", "--db", db, *args], capture_output=True, text=True)


def read_any(path):
    """Every tile of a PMTiles or MBTiles file, as MVT, by (z, x, y) with y from the top."""
    if path.endswith(".pmtiles"):
        return {k: gzip.decompress(v) for k, v in read_pmtiles(path)[2]}
    con = sqlite3.connect(path)
    tiles = {(z, x, (1 << z) - 1 - row): gzip.decompress(data)
             for z, x, row, data in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")}
    con.close()
    return tiles


def read_pmtiles(path):
    with open(path, "rb") as f:
        reader = Reader(MmapSource(f))
        return reader.header(), reader.metadata(), list(all_tiles(reader.get_bytes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    binary = os.path.abspath(ap.parse_args().binary)
    work = tempfile.mkdtemp(prefix="onemap-archives-")
    db = load_sample(binary, work, ROOT)

    # PMTiles of the farmland.
    farm = os.path.join(work, "farmland.pmtiles")
    out = export(binary, db, "--out", farm, "--layers", "farmland", "--maxzoom", "14")
    check("export farmland.pmtiles", out.returncode == 0, (out.stderr.strip().splitlines() or [""])[-1])
    header, metadata, tiles = read_pmtiles(farm)
    check("pmtiles header", header["clustered"] and header["tile_type"].value == 1 and header["tile_compression"].value == 2
          and header["min_zoom"] == 0 and header["max_zoom"] == 14, str({k: header[k] for k in ("min_zoom", "max_zoom", "clustered")}))
    check("pmtiles counts", len(tiles) == header["addressed_tiles_count"] > 0
          and header["tile_contents_count"] <= header["tile_entries_count"] <= header["addressed_tiles_count"],
          f"{len(tiles)} tiles read, header says {header['addressed_tiles_count']}")
    layers = {layer["id"]: layer for layer in metadata.get("vector_layers", [])}
    check("pmtiles metadata names the layer and its fields", set(layers) == {"farmland"} and "BSM" in layers["farmland"]["fields"],
          json.dumps(metadata.get("vector_layers"), ensure_ascii=False)[:200])
    bad, features, biggest = [], 0, 0
    for (z, x, y), data in tiles:
        mvt = gzip.decompress(data)
        biggest = max(biggest, len(mvt))
        try:
            meta, _, geometry, _ = pyogrio.raw.read(io.BytesIO(mvt), layer="farmland")
            features += len(geometry)
            # Below z13 small parcels are drawn as coverage, which carries no attributes.
            if z >= 13 and "BSM" not in list(meta["fields"]):
                bad.append(f"{z}/{x}/{y}: no BSM")
        except Exception as e:  # noqa: BLE001 - any failure to decode is the finding
            bad.append(f"{z}/{x}/{y}: {e}")
    check("every archive tile decodes as MVT (GDAL's MVT driver)", not bad and features > 0,
          f"{len(tiles)} tiles, {features} features, largest {biggest} bytes; {bad[:3]}")
    check("every tile ≤ 500 KiB", biggest <= 500 * 1024, f"{biggest} bytes")

    port = free_port()
    server = subprocess.Popen([binary, "serve", "--db", db, "--port", str(port), "--open"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        random.seed(26)
        differ = []
        for (z, x, y), data in random.sample(tiles, min(200, len(tiles))):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/tiles/farmland/{z}/{x}/{y}.mvt", timeout=60) as r:
                if r.read() != gzip.decompress(data):
                    differ.append(f"{z}/{x}/{y}")
        check("archive tiles are the server's tiles", not differ, f"{min(200, len(tiles))} compared; differ: {differ[:5]}")
    finally:
        stop(server)

    # The archive served with no database: the same bytes at the same URLs.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Started where no database lies at the default path, so none is opened.
    bare = os.path.join(work, "bare")
    os.mkdir(bare)
    server = subprocess.Popen([binary, "serve", "--tiles", farm, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=bare, env={**os.environ, "ONEMAP_DB": ""})
    try:
        wait_http(base + "/health")
        random.seed(27)
        differ = []
        for (z, x, y), data in random.sample(tiles, min(200, len(tiles))):
            req = urllib.request.Request(f"{base}/tiles/farmland/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(req, timeout=60) as r:
                if r.read() != data or r.headers["Content-Encoding"] != "gzip":
                    differ.append(f"{z}/{x}/{y}")
        check("serve --tiles, no database: the archive's tiles at the server's URLs", not differ, f"differ: {differ[:5]}")
        (z, x, y), data = tiles[len(tiles) // 2]
        with urllib.request.urlopen(f"{base}/tiles/farmland/{z}/{x}/{y}.mvt", timeout=60) as r:
            plain, etag = r.read(), r.headers["ETag"]
        check("without gzip asked, the tile is sent as MVT", plain == gzip.decompress(data))
        req = urllib.request.Request(f"{base}/tiles/farmland/{z}/{x}/{y}.mvt", headers={"If-None-Match": etag})
        try:
            urllib.request.urlopen(req, timeout=60)
            status = 200
        except urllib.error.HTTPError as e:
            status = e.code
        check("its ETag answers If-None-Match with 304", status == 304, f"{status}, ETag {etag}")
        with urllib.request.urlopen(f"{base}/tiles/farmland/14/0/0.mvt", timeout=60) as r:
            check("a tile the archive does not hold: 204", r.status == 204, str(r.status))
        tilejson = json.loads(urllib.request.urlopen(base + "/tiles/farmland.json", timeout=60).read())
        check("TileJSON from the archive points at these URLs", tilejson["tiles"] == [f"{base}/tiles/farmland/{{z}}/{{x}}/{{y}}.mvt"]
              and tilejson["maxzoom"] == 14 and tilejson["vector_layers"][0]["id"] == "farmland", json.dumps(tilejson)[:200])
        for path in ("/tiles/landuse/12/3412/1710.mvt", "/v1/layers"):
            try:
                urllib.request.urlopen(base + path, timeout=60)
                status, body = 200, ""
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read().decode()
            check(f"{path}: 404 naming what is served", status == 404 and "/tiles/farmland" in body, f"{status} {body[:120]}")
    finally:
        stop(server)

    # Damaged archives are refused at start, saying what is wrong.
    whole = open(farm, "rb").read()
    for name, content, words in (
        ("truncated.pmtiles", whole[:len(whole) // 3], "runs past the end of the file"),
        ("short.pmtiles", whole[:100], "shorter than its header"),
        ("junk.pmtiles", b"not an archive at all\n", "neither a PMTiles nor an MBTiles file"),
        ("bad-magic.pmtiles", b"PMTiles\x02" + whole[8:], "version 2"),
    ):
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(content)
        out = subprocess.run([binary, "serve", "--tiles", path, "--port", str(free_port())], capture_output=True, text=True,
                             timeout=60, cwd=work)
        said = [line for line in out.stderr.splitlines() if line.startswith("Error")]
        check(f"serve --tiles {name}: refused", out.returncode != 0 and words in out.stderr, " ".join(said)[:200])

    # Enough tiles for leaf directories.
    deep = os.path.join(work, "landuse-deep.pmtiles")
    out = export(binary, db, "--out", deep, "--layers", "landuse", "--minzoom", "17", "--maxzoom", "19",
                 "--bbox", "119.85,28.40,119.95,28.48")
    header, _, tiles = read_pmtiles(deep) if out.returncode == 0 else ({}, {}, [])
    check("a large directory is split into leaves, and read back whole",
          out.returncode == 0 and header.get("leaf_directory_length", 0) > 0 and len(tiles) == header["addressed_tiles_count"] > 10000,
          f"{len(tiles)} tiles, leaves {header.get('leaf_directory_length')} bytes; {out.stderr.strip()[-200:]}")

    # MBTiles of the one-map style, on both grids.
    for grid, name in (("webmercator", "onemap.mbtiles"), ("cgcs2000", "onemap-4490.mbtiles")):
        path = os.path.join(work, name)
        out = export(binary, db, "--out", path, "--maxzoom", "12", "--grid", grid)
        check(f"export {name}", out.returncode == 0, (out.stderr.strip().splitlines() or [""])[-1])
        con = sqlite3.connect(path)
        meta = dict(con.execute("SELECT name, value FROM metadata"))
        rows = con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
        con.close()
        vector_layers = {layer["id"] for layer in json.loads(meta.get("json", "{}")).get("vector_layers", [])}
        check(f"{name}: metadata", meta.get("format") == "pbf" and meta.get("maxzoom") == "12" and "farmland" in vector_layers
              and (grid == "webmercator" or (meta.get("tile_matrix_set") == "CGCS2000Quad" and meta.get("crs") == "EPSG:4490")),
              str({k: meta.get(k) for k in ("format", "minzoom", "maxzoom", "bounds", "crs", "tile_matrix_set")}))
        decoded = all(gzip.decompress(r[3])[:1] for r in rows)
        check(f"{name}: {len(rows)} gzipped tiles", len(rows) > 100 and decoded)
        if grid == "webmercator":
            info = subprocess.run(["ogrinfo", "-ro", "-so", path, "farmland"], capture_output=True, text=True).stdout
            check("GDAL's MBTiles driver opens the archive and its farmland layer",
                  "using driver `MBTiles' successful" in info and "Feature Count" in info, info[:300])
            # Row 0 of TMS is the bottom: the z1 tile over Lishui (north-east quarter) is x 1, TMS row 1.
            check("rows are counted from the bottom", (1, 1, 1) in {(r[0], r[1], r[2]) for r in rows})

    # Beside a database: the archive answers for the composite it holds, the rest is made.
    mb = os.path.join(work, "onemap.mbtiles")
    con = sqlite3.connect(mb)
    z, x, row, data = con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY length(tile_data) DESC").fetchone()
    con.close()
    y = (1 << z) - 1 - row
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([binary, "serve", "--db", db, "--tiles", mb, "--port", str(port), "--open"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(base + "/health")
        req = urllib.request.Request(f"{base}/tiles/onemap/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=60) as r:
            check("serve --db --tiles: the MBTiles answers /tiles/onemap", r.read() == data and r.headers["ETag"].startswith('"arc-'),
                  f"{z}/{x}/{y}, ETag {r.headers['ETag']}")
        with urllib.request.urlopen(f"{base}/tiles/farmland/{z}/{x}/{y}.mvt", timeout=60) as r:
            check("… and the database the layers it does not hold", r.status in (200, 204) and not r.headers["ETag"].startswith('"arc-'))
    finally:
        stop(server)

    # --update after a new version: only the tiles over the changes re-made, and the result
    # tile for tile a full export of the new version (PMTiles and MBTiles).
    before = {}
    for ext in ("pmtiles", "mbtiles"):
        path = os.path.join(work, f"update.{ext}")
        out = export(binary, db, "--out", path, "--layers", "farmland", "--maxzoom", "14")
        check(f"update: the first export ({ext})", out.returncode == 0, out.stderr.strip()[-200:])
        before[ext] = path
    changed = os.path.join(work, "farmland-v2.gpkg")
    # Some parcels renamed, some moved 40 m, the last three gone (so no parcel is renumbered).
    sql = ("SELECT BSM, TBBH, DLBM, CASE WHEN fid % 997 = 0 THEN DLMC || '改' ELSE DLMC END AS DLMC, ZLDWMC, XZQDM, TBMJ, "
           "CASE WHEN fid % 1999 = 0 THEN ST_Translate(geom, 40, 0, 0) ELSE geom END AS geom FROM yjjbnt "
           "WHERE fid <= (SELECT max(fid) - 3 FROM yjjbnt) ORDER BY fid")
    subprocess.run(["ogr2ogr", "-f", "GPKG", changed, os.path.join(ROOT, "sampledata", "farmland.gpkg"), "-dialect", "SQLite",
                    "-sql", sql, "-nln", "yjjbnt"], check=True, capture_output=True)
    subprocess.run([binary, "import", changed, "--layer", "farmland", "--id-field", "BSM", "--db", db], check=True, capture_output=True)
    for ext, path in before.items():
        out = subprocess.run([binary, "tiles", "export", "--db", db, "--update", path], capture_output=True, text=True)
        m = re.search(r"re-made (\d+) tiles .* copied (\d+) unchanged", out.stderr)
        full = os.path.join(work, f"full-v2.{ext}")
        export(binary, db, "--out", full, "--layers", "farmland", "--maxzoom", "14")
        got, want = read_any(path), read_any(full)
        differ = [k for k in want if got.get(k) != want[k]]
        check(f"--update ({ext}) re-makes only the tiles over the changes", out.returncode == 0 and m is not None
              and 0 < int(m.group(1)) < len(want) // 2, (out.stderr.strip().splitlines() or [""])[-1][:200])
        check(f"--update ({ext}) equals a full export of the new version, tile for tile",
              set(got) == set(want) and not differ, f"{len(got)} tiles against {len(want)}; differ {differ[:5]}")

    # An interrupted export leaves nothing at the output.
    target = os.path.join(work, "interrupted.pmtiles")
    p = subprocess.Popen([binary, "tiles", "export", "--db", db, "--out", target, "--layers", "farmland", "--maxzoom", "18"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    left = [f for f in os.listdir(work) if f.startswith("interrupted")]
    check("SIGINT: exit 130, nothing at the output, no partial file", p.returncode == 130 and not left,
          f"exit {p.returncode}, left {left}, {err.strip()[-120:]}")

    # Bad requests: a clear error, and an archive already there is left as it was.
    before = open(farm, "rb").read()
    for args, words in (
        (["--out", farm, "--layers", "no_such_layer"], "no layer 'no_such_layer'"),
        (["--out", os.path.join(work, "x.pmtiles"), "--grid", "cgcs2000"], "MBTiles only"),
        (["--out", os.path.join(work, "missing", "x.pmtiles")], "does not exist"),
        (["--out", os.path.join(work, "x.tiles")], ".pmtiles or .mbtiles"),
        (["--out", os.path.join(work, "x.pmtiles"), "--bbox", "120,28,119,29"], "--bbox"),
    ):
        out = export(binary, db, *args)
        said = [line for line in out.stderr.splitlines() if line.startswith("Error")]
        check(f"refused: {' '.join(args[2:]) or args[1]}", out.returncode != 0 and words in out.stderr, " ".join(said)[:200])
    check("a failed export leaves the existing archive as it was", open(farm, "rb").read() == before)
    check("no partial files left", not [f for f in os.listdir(work) if ".partial-" in f or ".spool-" in f])
    check.finish("archives")


if __name__ == "__main__":
    main()
