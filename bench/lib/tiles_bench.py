#!/usr/bin/env python3
"""Vector tiles, cold, per zoom: OneMap against PostGIS ST_AsMVT on the same farmland (issue 5).

Subcommands, driven by bench/run (which starts and stops the OneMap server between passes):

  list     the fixed tile list: for each zoom, the tiles under farmland parcels picked with a
           fixed seed (so tiles are where the data is, weighted by how much is there), from
           the SpatiaLite peer's R*Tree (CGCS2000 lon/lat boxes). -> tiles.json
  warmup   one tile that is in no list (z13, over a parcel): the first tile after start-up
           waits for the layer to be read into memory; that cost is reported on its own.
  pass     one timed pass over every tile of the list, on ONE connection, one tile at a time:
           --engine onemap   GET /tiles/farmland/{z}/{x}/{y}.mvt on a freshly started server
                             (every tile cold: the cache is empty; no Accept-Encoding, so the
                             plain MVT bytes, as PostGIS returns them);
           --engine postgis  the query Martin and pg_tileserv run for a table source, as one
                             prepared statement on one connection over the Unix socket:
                             ST_AsMVT of ST_AsMVTGeom(ST_Transform(geom, 3857),
                             ST_TileEnvelope(z, x, y), 4096, 64, true) for the rows whose
                             box meets ST_TileEnvelope(z, x, y, margin => 64/4096) in 4490.
           Writes the time and size of each tile, and (with --keep) the tile bytes.
  summarize  tiles/s and median size per zoom, ratios, the answer check on the kept tiles,
           the warm-cache wrk figures, and the PNG plot. -> tiles.json (results)

Answer check. z14 and up: the feature ids of both tiles, mapped to BSM (OneMap's MVT id is
its om_fid, PostGIS's the table's FID), must be the same sets. Below z14 OneMap generalises
(parcels under 3 px become coverage squares, a tile is capped at 450 KiB), so ids cannot
agree by design: the check there is the area OneMap's tile covers inside the tile square
(union of its polygons, tile units²) against the farmland's true area in that square
(PostGIS: ST_Area of ST_Intersection of each parcel in EPSG:3857 with ST_TileEnvelope,
summed; parcels do not overlap), within issue 5's 5%; and the feature counts.

Needs the bench venv's python (psycopg2, mapbox-vector-tile, shapely, matplotlib) whose
sqlite3 module loads mod_spatialite (it is Debian's python underneath).
"""
import argparse
import json
import math
import os
import random
import sqlite3
import statistics
import sys
import time

ZOOMS = [8, 10, 12, 14, 15, 16]
# How many tiles per zoom at most: PostGIS takes about a second a tile at z8 on 500k parcels.
PER_ZOOM = {8: 8, 10: 16, 12: 24, 14: 48, 15: 48, 16: 48}
HIGH_ZOOM = 14          # from here on, ids must agree
COVERAGE_TILES = 2      # low-zoom tiles decoded for the coverage comparison, per zoom
EXTENT = 4096


def tile_of(lon, lat, z):
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    s = math.sin(math.radians(lat))
    y = int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
    return min(n - 1, max(0, x)), min(n - 1, max(0, y))


def spatialite(path):
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


def cmd_list(a):
    con = sqlite3.connect(a.spatialite)   # the R*Tree is a plain table: no extension needed
    boxes = con.execute("SELECT pkid, xmin, xmax, ymin, ymax FROM idx_farmland_geom ORDER BY pkid").fetchall()
    rng = random.Random(a.seed)
    picked = rng.sample(boxes, min(len(boxes), 4000))
    tiles = {}
    for z in ZOOMS:
        seen = []
        for _, x0, x1, y0, y1 in picked:
            t = list(tile_of((x0 + x1) / 2, (y0 + y1) / 2, z))
            if t not in seen:
                seen.append(t)
            if len(seen) == PER_ZOOM[z]:
                break
        tiles[str(z)] = sorted(seen)
    # The warm-up tile: z13, over a parcel, in no list (the lists have no z13).
    _, x0, x1, y0, y1 = picked[-1]
    out = {"zooms": ZOOMS, "tiles": tiles, "warmup": [13, *tile_of((x0 + x1) / 2, (y0 + y1) / 2, 13)],
           "seed": a.seed, "parcels_sampled": len(picked)}
    with open(a.out, "w") as f:
        json.dump(out, f)
    print("tiles per zoom: " + ", ".join(f"z{z} {len(v)}" for z, v in tiles.items()), file=sys.stderr)


class OneMapTiles:
    """GET tiles on one keep-alive HTTP/1.1 connection, over a plain socket.

    Not http.client: its per-request Python (header objects, email-style parsing) cost
    ~0.3 ms a tile, more than a cached tile takes the server, and it would be timed as
    OneMap's. This sends one request line and reads the status, Content-Length (or chunks)
    and body: about what psycopg2's C client costs PostGIS on its side.
    """

    def __init__(self, url, layer):
        import socket
        host, port = url.replace("http://", "").rstrip("/").split(":")
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, int(port)), timeout=600)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.layer = layer

    def path(self, z, x, y):
        return f"/tiles/{self.layer}/{z}/{x}/{y}.mvt"

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise SystemExit("OneMap: the server closed the connection")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def tile(self, z, x, y):
        path = self.path(z, x, y)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        status = int(self._line().split(b" ", 2)[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        if b"content-length" in headers:
            body = self._take(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                n = int(self._line().split(b";")[0], 16)
                if n == 0:
                    while self._line():
                        pass
                    break
                body += self._take(n)
                self._take(2)
        else:
            body = b""
        if status not in (200, 204):
            raise SystemExit(f"OneMap: GET {path} answered {status}: {body[:300]!r}")
        if b"content-encoding" in headers:
            raise SystemExit(f"OneMap: {path} came {headers[b'content-encoding']!r}-encoded unasked")
        return body


class PostGISTiles:
    def __init__(self, dsn, table, columns, srid):
        import psycopg2
        self.con = psycopg2.connect(dsn)
        self.con.autocommit = True
        self.cur = self.con.cursor()
        props = ", ".join(f'"{c}"' for c in columns)
        # Martin's table-source query (margin: its 64-unit buffer), prepared once.
        self.sql = f"""
            PREPARE tile(integer, integer, integer) AS
            SELECT ST_AsMVT(t, 'farmland', {EXTENT}, 'geom', 'fid') FROM (
              SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), {EXTENT}, 64, true) AS geom,
                     fid, {props}
              FROM {table}
              WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => (64.0 / {EXTENT})), {srid})
            ) AS t"""
        self.cur.execute(self.sql)

    def tile(self, z, x, y):
        self.cur.execute("EXECUTE tile(%s, %s, %s)", (z, x, y))
        row = self.cur.fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""


def pg_columns(dsn, table):
    import psycopg2
    con = psycopg2.connect(dsn)
    cur = con.cursor()
    cur.execute("""SELECT column_name FROM information_schema.columns
                   WHERE table_name = %s AND column_name NOT IN ('geom', 'fid') ORDER BY ordinal_position""", (table,))
    cols = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT postgis_full_version()")
    version = cur.fetchone()[0]
    con.close()
    return cols, version


def cmd_warmup(a):
    with open(a.tiles) as f:
        spec = json.load(f)
    z, x, y = spec["warmup"]
    eng = OneMapTiles(a.url, a.layer)
    t0 = time.perf_counter()
    body = eng.tile(z, x, y)
    ms = (time.perf_counter() - t0) * 1000
    with open(a.out, "a") as f:
        f.write(json.dumps({"run": a.run, "tile": [z, x, y], "ms": ms, "bytes": len(body)}) + "\n")
    print(f"  warm-up tile z{z}/{x}/{y}: {ms:.0f} ms", file=sys.stderr)


def cmd_pass(a):
    with open(a.tiles) as f:
        spec = json.load(f)
    if a.engine == "onemap":
        eng = OneMapTiles(a.url, a.layer)
        version = None
    else:
        cols, version = pg_columns(a.pg, "farmland")
        eng = PostGISTiles(a.pg, "farmland", cols, 4490)
        # Untimed, as OneMap's warm-up tile: a backend's first ST_Transform sets up PROJ.
        eng.tile(*spec["warmup"])
    keep = a.keep and os.path.join(a.keep, a.engine)
    if keep:
        os.makedirs(keep, exist_ok=True)
    rows = []
    for z in spec["zooms"]:
        for x, y in spec["tiles"][str(z)]:
            t0 = time.perf_counter()
            body = eng.tile(z, x, y)
            ms = (time.perf_counter() - t0) * 1000
            rows.append({"engine": a.engine, "run": a.run, "z": z, "x": x, "y": y, "ms": ms, "bytes": len(body)})
            if keep:
                with open(os.path.join(keep, f"{z}_{x}_{y}.mvt"), "wb") as f:
                    f.write(body)
        zr = [r for r in rows if r["z"] == z]
        print(f"  run {a.run} {a.engine} z{z}: {len(zr)} tiles, {sum(r['ms'] for r in zr) / len(zr):.1f} ms/tile, "
              f"median {statistics.median(r['bytes'] for r in zr) / 1024:.0f} KiB", file=sys.stderr)
    with open(a.out, "a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    if a.engine == "onemap":
        # OneMap's floor: the z16 tiles again, now cached, on the same connection: HTTP and a
        # cache lookup, which every OneMap figure holds and no PostGIS figure does.
        z = spec["zooms"][-1]
        warm = []
        for x, y in spec["tiles"][str(z)]:
            t0 = time.perf_counter()
            eng.tile(z, x, y)
            warm.append((time.perf_counter() - t0) * 1000)
        with open(a.out + ".floor", "a") as f:
            f.write(json.dumps({"run": a.run, "z": z, "ms_median": statistics.median(warm)}) + "\n")
    if version:
        with open(a.out + ".postgis_version", "w") as f:
            f.write(version)


# ---------------------------------------------------------------- answers

def decode(path):
    import mapbox_vector_tile
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return []
    layers = mapbox_vector_tile.decode(data)
    feats = []
    for layer in layers.values():
        feats += layer["features"]
    return feats


def in_square(feature):
    """Does the feature's clipped geometry reach into the tile square (0..EXTENT), rather than
    lying wholly in the buffer around it? By its box, with some area inside."""
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for d in c:
                walk(d)
    walk(feature["geometry"]["coordinates"])
    return bool(xs) and max(xs) > 0 and min(xs) < EXTENT and max(ys) > 0 and min(ys) < EXTENT


def polygons(feature):
    from shapely.geometry import shape
    g = feature["geometry"]
    if g["type"] not in ("Polygon", "MultiPolygon"):
        return None
    try:
        s = shape(g)
        return s if s.is_valid else s.buffer(0)
    except Exception:
        return None


def covered_area(feats):
    """The area the tile's polygons cover inside the tile square, tile units²."""
    from shapely.geometry import box
    from shapely import union_all
    square = box(0, 0, EXTENT, EXTENT)
    parts = [p.intersection(square) for p in (polygons(f) for f in feats) if p is not None]
    return union_all(parts).area if parts else 0.0


def count_features(data):
    """Features in an MVT, by walking the protobuf (decoding a 6 MiB PostGIS tile in Python
    takes minutes): Tile.layers (field 3) -> Layer.features (field 2)."""
    def varint(buf, i):
        shift = n = 0
        while True:
            b = buf[i]
            i += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n, i
            shift += 7

    def fields(buf, start, end):
        i = start
        while i < end:
            key, i = varint(buf, i)
            wire = key & 7
            if wire == 0:
                _, i = varint(buf, i)
                yield key >> 3, None, None
            elif wire == 2:
                n, i = varint(buf, i)
                yield key >> 3, i, i + n
                i += n
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            else:
                raise ValueError(f"MVT: wire type {wire}")

    total = 0
    for f, a, b in fields(data, 0, len(data)):
        if f == 3:
            total += sum(1 for g, _, _ in fields(data, a, b) if g == 2)
    return total


_data_con = None


def data_area(dsn, z, x, y):
    """The farmland's area inside the tile square, in tile units² (Web Mercator, as the tile
    draws it): the truth the tile's covered area is held to."""
    global _data_con
    if _data_con is None:
        import psycopg2
        _data_con = psycopg2.connect(dsn)
    cur = _data_con.cursor()
    cur.execute("""SELECT COALESCE(SUM(ST_Area(ST_Intersection(ST_Transform(geom, 3857), e))), 0), ST_XMax(e) - ST_XMin(e)
                   FROM farmland, ST_TileEnvelope(%s, %s, %s) AS e
                   WHERE geom && ST_Transform(e, 4490) GROUP BY e""", (z, x, y))
    row = cur.fetchone()
    if not row:
        return 0.0
    area, side = row
    return area * (EXTENT / side) ** 2


def id_map_onemap(db, fids):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    table = con.execute("""SELECT v.table_name FROM onemap_layers l JOIN onemap_layer_versions v
                           ON v.layer = l.name AND v.version = l.current_version WHERE l.name = 'farmland'""").fetchone()
    if not table:
        raise SystemExit(f"tiles: no current farmland version in {db}")
    out = {}
    fids = list(fids)
    for i in range(0, len(fids), 500):
        chunk = fids[i:i + 500]
        q = f'SELECT om_fid, om_id FROM "{table[0]}" WHERE om_fid IN ({",".join("?" * len(chunk))})'
        out.update(dict(con.execute(q, chunk).fetchall()))
    return out


def id_map_postgis(dsn, fids):
    import psycopg2
    con = psycopg2.connect(dsn)
    cur = con.cursor()
    cur.execute("SELECT fid, bsm FROM farmland WHERE fid = ANY(%s)", (list(fids),))
    out = dict(cur.fetchall())
    con.close()
    return out


def check_answers(spec, keep, onemap_db, dsn):
    res = {"high": {}, "low": {}}
    for z in spec["zooms"]:
        tiles = spec["tiles"][str(z)]
        if z >= HIGH_ZOOM:
            om_all, pg_all, per_tile = {}, {}, []
            for x, y in tiles:
                name = f"{z}_{x}_{y}.mvt"
                om = decode(os.path.join(keep, "onemap", name))
                pg = decode(os.path.join(keep, "postgis", name))
                per_tile.append((name, [(f.get("id"), in_square(f)) for f in om], [(f.get("id"), in_square(f)) for f in pg]))
            om_ids = {i for _, o, _ in per_tile for i, _ in o if i is not None}
            pg_ids = {i for _, _, p in per_tile for i, _ in p if i is not None}
            om_map = id_map_onemap(onemap_db, om_ids)
            pg_map = id_map_postgis(dsn, pg_ids)
            equal_tiles, diffs, om_n, pg_n, no_id, buffer_only = 0, [], 0, 0, 0, []
            for name, o, p in per_tile:
                no_id += sum(1 for i, _ in o if i is None)
                # Features drawn in the tile square itself must agree; features whose clipped
                # geometry lies wholly in the 64-unit buffer are reported apart.
                a = {om_map.get(i, f"?om_fid {i}") for i, inside in o if i is not None and inside}
                b = {pg_map.get(i, f"?pg_fid {i}") for i, inside in p if i is not None and inside}
                a_all = {om_map.get(i, f"?om_fid {i}") for i, _ in o if i is not None}
                b_all = {pg_map.get(i, f"?pg_fid {i}") for i, _ in p if i is not None}
                if a_all != b_all and a == b:
                    buffer_only.append({"tile": name, "only_onemap": sorted(a_all - b_all)[:5],
                                        "only_postgis": sorted(b_all - a_all)[:5]})
                om_n += len(a)
                pg_n += len(b)
                if a == b:
                    equal_tiles += 1
                else:
                    diffs.append({"tile": name, "only_onemap": sorted(a - b)[:10], "only_postgis": sorted(b - a)[:10],
                                  "only_onemap_count": len(a - b), "only_postgis_count": len(b - a)})
            res["high"][str(z)] = {"tiles": len(per_tile), "equal_tiles": equal_tiles, "onemap_features": om_n,
                                   "postgis_features": pg_n, "onemap_features_without_id": no_id, "diffs": diffs,
                                   "buffer_only_diffs": buffer_only}
        else:
            rows = []
            for x, y in tiles[:COVERAGE_TILES]:
                name = f"{z}_{x}_{y}.mvt"
                om = decode(os.path.join(keep, "onemap", name))
                merged = sum(f["properties"].get("om_merged", 0) for f in om)
                with open(os.path.join(keep, "postgis", name), "rb") as f:
                    pg_count = count_features(f.read())
                rows.append({"tile": name, "onemap_features": sum(1 for f in om if f.get("id") is not None),
                             "onemap_merged_parcels": merged, "postgis_features": pg_count,
                             "onemap_cover": covered_area(om), "data_area": data_area(dsn, z, x, y)})
            for r in rows:
                r["cover_ratio"] = r["onemap_cover"] / r["data_area"] if r["data_area"] else None
            res["low"][str(z)] = rows
    return res


# ---------------------------------------------------------------- summary

def cmd_summarize(a):
    with open(a.tiles) as f:
        spec = json.load(f)
    rows = [json.loads(l) for l in open(a.runs)]
    warm = [json.loads(l) for l in open(a.warmup)] if os.path.exists(a.warmup) else []
    version = open(a.runs + ".postgis_version").read().strip() if os.path.exists(a.runs + ".postgis_version") else "?"
    zooms = {}
    for z in spec["zooms"]:
        zs = {}
        for eng in ("onemap", "postgis"):
            rs = [r for r in rows if r["engine"] == eng and r["z"] == z]
            runs = sorted({r["run"] for r in rs})
            per_run = []
            for run in runs:
                t = [r["ms"] for r in rs if r["run"] == run]
                per_run.append(len(t) / (sum(t) / 1000))
            sizes = [r["bytes"] for r in rs if r["run"] == runs[-1]]
            zs[eng] = {"tiles_per_s_by_run": per_run, "tiles_per_s": statistics.median(per_run),
                       "ms_per_tile": 1000 / statistics.median(per_run),
                       "median_bytes": statistics.median(sizes), "max_bytes": max(sizes),
                       "empty_tiles": sum(1 for s in sizes if s == 0), "tiles": len(sizes)}
        zs["ratio"] = zs["onemap"]["tiles_per_s"] / zs["postgis"]["tiles_per_s"]
        zooms[str(z)] = zs
    answers = check_answers(spec, a.keep, a.onemap_db, a.pg)
    wrk = None
    if a.wrk and os.path.exists(a.wrk):
        wrk = json.load(open(a.wrk))
    floor = [json.loads(l) for l in open(a.runs + ".floor")] if os.path.exists(a.runs + ".floor") else []
    out = {"zooms": zooms, "answers": answers, "warmup": warm, "wrk": wrk, "postgis_version": version, "floor": floor,
           "tile_count": {z: len(v) for z, v in spec["tiles"].items()}, "high_zoom": HIGH_ZOOM,
           "coverage_tiles": COVERAGE_TILES}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    plot(zooms, a.png)


def plot(zooms, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    zs = sorted(int(z) for z in zooms)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for eng, label, style in (("onemap", "OneMap", "o-"), ("postgis", "PostGIS ST_AsMVT", "s--")):
        ax1.plot(zs, [zooms[str(z)][eng]["ms_per_tile"] for z in zs], style, label=label)
        ax2.plot(zs, [zooms[str(z)][eng]["median_bytes"] / 1024 for z in zs], style, label=label)
    ax1.set_yscale("log")
    ax1.set_xlabel("zoom")
    ax1.set_ylabel("ms per cold tile (median of runs)")
    ax1.set_title("Cold tile time, farmland, one connection")
    ax2.set_yscale("log")
    ax2.set_xlabel("zoom")
    ax2.set_ylabel("median tile size, KiB (uncompressed MVT)")
    ax2.set_title("Tile size")
    ax2.axhline(450, color="grey", lw=0.8, ls=":", label="450 KiB cap (OneMap)")
    for ax in (ax1, ax2):
        ax.set_xticks(zs)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list")
    p.add_argument("--spatialite", required=True)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", required=True)
    p = sub.add_parser("warmup")
    p.add_argument("--tiles", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--layer", default="farmland")
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("pass")
    p.add_argument("--engine", choices=["onemap", "postgis"], required=True)
    p.add_argument("--tiles", required=True)
    p.add_argument("--url")
    p.add_argument("--layer", default="farmland")
    p.add_argument("--pg")
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--keep", help="keep the tiles' bytes under this folder")
    p = sub.add_parser("summarize")
    p.add_argument("--tiles", required=True)
    p.add_argument("--runs", required=True)
    p.add_argument("--warmup", required=True)
    p.add_argument("--keep", required=True)
    p.add_argument("--onemap-db", required=True)
    p.add_argument("--pg", required=True)
    p.add_argument("--wrk")
    p.add_argument("--out", required=True)
    p.add_argument("--png", required=True)
    a = ap.parse_args()
    {"list": cmd_list, "warmup": cmd_warmup, "pass": cmd_pass, "summarize": cmd_summarize}[a.cmd](a)


if __name__ == "__main__":
    main()
