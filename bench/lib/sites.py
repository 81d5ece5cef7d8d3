#!/usr/bin/python3
"""Make the benchmark project sites (项目用地红线) for the conflict check, the way projects come.

Issue 20: real footprints run from a 0.3 ha house plot to a 500 ha industrial park and to a
20 km road, pipeline or channel corridor a few dozen metres wide, so the sites come in
buckets, each timed and checked on its own:

  small     0.3-5 ha   rotated rectangles and irregular outlines, 4-24 vertices
  medium    5-50 ha    irregular outlines, 12-80 vertices
  large     50-500 ha  irregular outlines, 40-400 vertices; some with a hole (a village or a
                       hill kept out), some in two or three separate parts (MultiPolygon)
  corridor  5-30 km long, 30-80 m wide: a wandering centre line buffered (flat ends, mitred
                       joins), a few hundred to a few thousand vertices
  legacy    the bench's earlier sites, rotated rectangles 150-400 m a side, exactly as they
                       were (the first 20 of them), so older figures stay comparable

Areas are log-uniform within each size bucket (so over the three buckets, 0.3-500 ha, up to
their equal counts). Every site is centred on (or, a corridor, starts at) a farmland parcel
picked with the seed (a large site on the one of eight with the most farmland around it), so
sites fall where farmland is, along the valleys, and big sites touch hundreds of parcels at
the default scale. A corridor follows the valleys: it turns gently,
and every 600 m or so steers toward the heading with the most farmland ahead (counted in
the GeoPackage's R*Tree), keeping within 70 degrees of its general bearing.

Outlines are built in metres in the GeoPackage's CRS (CGCS2000 3-degree Gauss-Krueger zone
40, EPSG:4528) and transformed to CGCS2000 longitude/latitude (EPSG:4490) by SpatiaLite's
PROJ, written with 9 decimals (~0.1 mm). Every engine reads the polygons back from the
written file, so all check exactly the same sites; each written polygon is read back and
must be valid (SpatiaLite ST_IsValid), or this script fails, naming the site.

Writes OUT/sites.geojson (all sites, one Feature each, bucket in its properties, grouped by
bucket) and OUT/sites/<id>.geojson (one file per site, one line, for `onemap check FILE` and
the HTTP bodies).

Needs Debian's /usr/bin/python3, whose sqlite3 module can load mod_spatialite.
"""
import argparse
import json
import math
import os
import random
import sqlite3

# (bucket, how many, area range in ha); the legacy and corridor buckets are not by area.
SIZE_BUCKETS = [("small", 25, 0.3, 5.0), ("medium", 25, 5.0, 50.0), ("large", 25, 50.0, 500.0)]
CORRIDORS = 25
LEGACY = 20
BUCKETS = ["small", "medium", "large", "corridor", "legacy"]
# Kept clear of the bucket bounds, so the rounding of the outline cannot move a site across one.
EDGE = 0.02


def spatialite(path):
    con = sqlite3.connect(path)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


def shoelace(ring):
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))


def ring_wkt(ring):
    """A closed ring, counter-clockwise for an outer ring (the caller reverses holes)."""
    pts = ring + [ring[0]]
    return "(" + ",".join(f"{x:.4f} {y:.4f}" for x, y in pts) + ")"


class Blob:
    """A star-shaped outline around (0, 0): r(t) = 1 + sum a_k cos(k t + p_k) with sum a_k <= 0.5,
    then stretched and rotated. Star-shaped about the centre, so simple; a smaller blob about the
    same centre whose radius stays under this one's in every direction lies inside it (a linear
    map keeps that), which is how holes are made."""

    def __init__(self, rng, vertices, wobble=0.5):
        self.n = vertices
        ks = range(2, 7)
        amps = [rng.uniform(0, 1) / k for k in ks]
        scale = wobble * rng.uniform(0.3, 1.0) / sum(amps)
        self.terms = [(k, a * scale, rng.uniform(0, 2 * math.pi)) for k, a in zip(ks, amps)]
        self.stretch = rng.uniform(1.0, 2.2)
        self.angle = rng.uniform(0, math.pi)
        self.phase = rng.uniform(0, 2 * math.pi)

    def radius(self, t):
        return 1 + sum(a * math.cos(k * t + p) for k, a, p in self.terms)

    def ring(self, size, cx, cy, n=None, shrink=None):
        """Vertices, counter-clockwise, of the outline at `size` (metres), centred on (cx, cy).
        `shrink` (a function of t) gives a hole's radius in the outline's own frame."""
        n = n or self.n
        c, s = math.cos(self.angle), math.sin(self.angle)
        out = []
        for i in range(n):
            t = self.phase + 2 * math.pi * i / n
            r = shrink(t) if shrink else self.radius(t)
            x, y = r * math.cos(t) * self.stretch, r * math.sin(t)
            out.append((cx + size * (x * c - y * s), cy + size * (x * s + y * c)))
        return out

    def min_radius(self):
        return min(self.radius(2 * math.pi * i / 720) for i in range(720))

    def max_extent(self, size):
        return size * self.stretch * max(self.radius(2 * math.pi * i / 720) for i in range(720))


def rectangle(cx, cy, width, height, angle_deg):
    t = math.radians(angle_deg)
    return [(cx + x * math.cos(t) - y * math.sin(t), cy + x * math.sin(t) + y * math.cos(t))
            for x, y in ((-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2))]


def polygon_of_area(rng, area_m2, cx, cy, vertices, hole_share=0.0):
    """One outline (and, with hole_share > 0, one hole of about that share of the outline's area)
    whose net area is area_m2. Returns (blob, size, outer ring, [holes])."""
    blob = Blob(rng, vertices)
    shrink = None
    if hole_share > 0:
        # The hole's radius in each direction: a scaled copy of its own wobble, kept under 0.8 of
        # the outline's smallest radius, so it lies strictly inside.
        hole = Blob(rng, max(8, vertices // 4), wobble=0.3)
        hmax = max(hole.radius(2 * math.pi * i / 720) for i in range(720))
        k = min(math.sqrt(hole_share), 0.8 * blob.min_radius() / hmax)
        shrink = (hole.n, lambda t: k * hole.radius(t))

    def rings(size, x, y):
        holes = [blob.ring(size, x, y, n=shrink[0], shrink=shrink[1])] if shrink else []
        return blob.ring(size, x, y), holes

    outer, holes = rings(1.0, 0, 0)
    size = math.sqrt(area_m2 / (abs(shoelace(outer)) - sum(abs(shoelace(h)) for h in holes)))
    outer, holes = rings(size, cx, cy)
    return blob, size, outer, holes


def polygon_wkt(outer, holes):
    return "(" + ",".join([ring_wkt(outer)] + [ring_wkt(h[::-1]) for h in holes]) + ")"


class Farmland:
    """The GeoPackage's farmland: parcel centroids by fid, and parcel counts in a box (R*Tree)."""

    def __init__(self, gpkg, layer):
        self.con, self.layer = gpkg, layer
        srs = gpkg.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()[0]
        # The metre arithmetic here must mean metres: zone 40.
        if srs != 4528:
            raise SystemExit(f"sites.py: layer {layer} is EPSG:{srs}, expected EPSG:4528")
        col = gpkg.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()[0]
        self.col = col
        self.rtree = f"rtree_{layer}_{col}"
        self.fids = [r[0] for r in gpkg.execute(f'SELECT fid FROM "{layer}" ORDER BY fid')]

    def centroid(self, fid):
        return self.con.execute(
            f'SELECT BSM, ST_X(c), ST_Y(c) FROM (SELECT BSM, ST_Centroid(GeomFromGPB("{self.col}")) AS c '
            f'FROM "{self.layer}" WHERE fid = ?)', (fid,)).fetchone()

    def count_near(self, x, y, half):
        return self.con.execute(
            f'SELECT COUNT(*) FROM "{self.rtree}" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?',
            (x + half, x - half, y + half, y - half)).fetchone()[0]


def legacy_sites(farmland, seed):
    """The earlier bench's sites, drawn exactly as it drew them (same generator, same order)."""
    rng = random.Random(seed)
    picked = rng.sample(farmland.fids, 100)[:LEGACY]
    out = []
    for fid in picked:
        bsm, cx, cy = farmland.centroid(fid)
        width = rng.uniform(150, 400)
        height = rng.uniform(150, 400)
        angle = rng.uniform(0, 180)
        # Up to 60 m off the centroid, so sites don't all sit symmetric on one parcel.
        off, bearing = rng.uniform(0, 60), rng.uniform(0, 2 * math.pi)
        cx += off * math.cos(bearing)
        cy += off * math.sin(bearing)
        ring = rectangle(cx, cy, width, height, angle)
        out.append(("legacy", "POLYGON(" + ring_wkt(ring) + ")",
                    {"near_fid": fid, "near_bsm": bsm, "width_m": round(width, 1), "height_m": round(height, 1),
                     "angle_deg": round(angle, 1)}))
    return out


def sized_sites(farmland, seed):
    out = []
    for b, (bucket, count, lo, hi) in enumerate(SIZE_BUCKETS):
        rng = random.Random(f"{seed}/{bucket}")
        picked = rng.sample(farmland.fids, count)
        # Which of the large sites have a hole, and which come in several parts (one of those with
        # a hole too): fixed shares, spread over the bucket by the seed.
        kinds = ["plain"] * count
        if bucket == "large":
            kinds = ["hole"] * 7 + ["multi"] * 6 + ["multi+hole"] * 2 + ["plain"] * (count - 15)
            rng.shuffle(kinds)
        for fid, kind in zip(picked, kinds):
            area_ha = math.exp(rng.uniform(math.log(lo * (1 + EDGE)), math.log(hi * (1 - EDGE))))
            if bucket == "large":
                # A park or a development zone is laid out over the valley floor, where the farmland
                # is: of this parcel and seven more picked with the seed, the one with the most
                # parcels in a square of the site's area around it.
                half = math.sqrt(area_ha * 1e4) / 2
                fid = max([fid] + rng.sample(farmland.fids, 7),
                          key=lambda f: farmland.count_near(*farmland.centroid(f)[1:], half))
            bsm, cx, cy = farmland.centroid(fid)
            props = {"near_fid": fid, "near_bsm": bsm, "target_area_ha": round(area_ha, 3), "shape": kind}
            if bucket == "small" and rng.random() < 0.5:
                # A plot as surveyed: a rectangle, up to 3:1.
                aspect = rng.uniform(1, 3)
                h = math.sqrt(area_ha * 1e4 / aspect)
                ring = rectangle(cx, cy, h * aspect, h, rng.uniform(0, 180))
                props["shape"] = "rectangle"
                out.append((bucket, "POLYGON(" + ring_wkt(ring) + ")", props))
                continue
            vertices = {"small": (4, 24), "medium": (12, 80), "large": (40, 400)}[bucket]
            nv = lambda: int(math.exp(rng.uniform(math.log(vertices[0]), math.log(vertices[1]))))
            if kind.startswith("multi"):
                parts = rng.choice([2, 2, 3])
                shares = [rng.uniform(1, 3) for _ in range(parts)]
                shares = [s / sum(shares) for s in shares]
                polys, placed = [], []   # placed: (x, y, bounding radius)
                for i, share in enumerate(shares):
                    hole = 0.1 if (kind == "multi+hole" and i == 0) else 0.0
                    for _attempt in range(200):
                        if not placed:
                            px, py = cx, cy
                        else:
                            # Beside an earlier part, 20-300 m apart: separate fields of one project.
                            ax, ay, ar = rng.choice(placed)
                            probe = polygon_of_area(random.Random(rng.random()), area_ha * 1e4 * share, 0, 0, 32)
                            reach = ar + probe[0].max_extent(probe[1]) + rng.uniform(20, 300)
                            t = rng.uniform(0, 2 * math.pi)
                            px, py = ax + reach * math.cos(t), ay + reach * math.sin(t)
                        blob, size, outer, holes = polygon_of_area(rng, area_ha * 1e4 * share, px, py, nv(), hole)
                        r = blob.max_extent(size)
                        if all(math.hypot(px - x, py - y) > r + rr + 20 for x, y, rr in placed):
                            placed.append((px, py, r))
                            polys.append(polygon_wkt(outer, holes))
                            break
                    else:
                        raise SystemExit(f"sites.py: could not place part {i + 1} of a {bucket} site apart from the others")
                props["parts"] = parts
                out.append((bucket, "MULTIPOLYGON(" + ",".join(polys) + ")", props))
            else:
                hole = rng.uniform(0.05, 0.2) if kind == "hole" else 0.0
                _blob, _size, outer, holes = polygon_of_area(rng, area_ha * 1e4, cx, cy, nv(), hole)
                out.append((bucket, "POLYGON" + polygon_wkt(outer, holes), props))
    return out


def corridor_sites(farmland, mem, seed):
    """Roads, pipelines and channels: a centre line that follows the farmland, buffered."""
    rng = random.Random(f"{seed}/corridor")
    picked = rng.sample(farmland.fids, CORRIDORS)
    # Flat ends and mitred joins: a corridor's outline is the two sides of its centre line.
    mem.execute("SELECT BufferOptions_SetEndCapStyle('FLAT'), BufferOptions_SetJoinStyle('MITRE'), "
                "BufferOptions_SetMitreLimit(3.0)")
    out = []
    for fid in picked:
        bsm, x, y = farmland.centroid(fid)
        length = rng.uniform(5000, 30000)
        width = rng.uniform(30, 80)
        bearing = rng.uniform(0, 2 * math.pi)      # the general direction, A to B
        heading, turn, target = bearing, 0.0, bearing
        pts, run, steps = [(x, y)], 0.0, 0
        while run < length:
            # Every ~600 m: of the headings within 60 degrees either side (and 70 of the general
            # bearing), the one with the most farmland parcels 600 m and 1.2 km ahead.
            if steps % 15 == 0:
                best = None
                for d in (-60, -40, -20, 0, 20, 40, 60):
                    h = heading + math.radians(d)
                    off = (h - bearing + math.pi) % (2 * math.pi) - math.pi
                    if abs(off) > math.radians(70):
                        continue
                    n = sum(farmland.count_near(x + r * math.cos(h), y + r * math.sin(h), 250) for r in (600, 1200))
                    key = (n + rng.uniform(0, 0.5), -abs(d))
                    if best is None or key > best[0]:
                        best = (key, h)
                target = best[1] if best else bearing
            # Turn gently toward the target: at most 3 degrees a vertex, with a little wander.
            want = (target - heading + math.pi) % (2 * math.pi) - math.pi
            turn = 0.6 * turn + 0.4 * max(-math.radians(3), min(math.radians(3), want * 0.3)) + rng.gauss(0, math.radians(0.8))
            turn = max(-math.radians(3), min(math.radians(3), turn))
            heading += turn
            step = rng.uniform(25, 55)
            x, y = x + step * math.cos(heading), y + step * math.sin(heading)
            pts.append((x, y))
            run += step
            steps += 1
        line = "LINESTRING(" + ",".join(f"{px:.4f} {py:.4f}" for px, py in pts) + ")"
        wkt = mem.execute("SELECT AsText(ST_Buffer(GeomFromText(?, 4528), ?))", (line, width / 2)).fetchone()[0]
        if not wkt or not wkt.startswith(("POLYGON", "MULTIPOLYGON")):
            raise SystemExit(f"sites.py: buffering a corridor's centre line gave {wkt!r:.80}")
        out.append(("corridor", wkt, {"near_fid": fid, "near_bsm": bsm, "length_m": round(run, 1),
                                      "width_m": round(width, 1), "centre_line_vertices": len(pts)}))
    mem.execute("SELECT BufferOptions_Reset()")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpkg", required=True)
    ap.add_argument("--layer", default="yjjbnt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()

    farmland = Farmland(spatialite(a.gpkg), a.layer)
    # A scratch SpatiaLite database that knows just the two CRSs we transform between.
    mem = spatialite(":memory:")
    mem.execute("SELECT InitSpatialMetadata(1, 'NONE')")
    mem.execute("SELECT InsertEpsgSrid(4528)")
    mem.execute("SELECT InsertEpsgSrid(4490)")

    made = sized_sites(farmland, a.seed) + corridor_sites(farmland, mem, a.seed) + legacy_sites(farmland, a.seed)
    features, numbers = [], {}
    for bucket, wkt, props in made:
        numbers[bucket] = numbers.get(bucket, 0) + 1
        site_id = f"{bucket}-{numbers[bucket]:02d}"
        g = mem.execute("SELECT GeomFromText(?, 4528)", (wkt,)).fetchone()[0]
        if g is None:
            raise SystemExit(f"sites.py: site {site_id}'s outline is not WKT SpatiaLite can read: {wkt[:120]}")
        valid, reason, area, npoints = mem.execute(
            "SELECT ST_IsValid(?1), ST_IsValidReason(?1), ST_Area(?1), ST_NPoints(?1)", (g,)).fetchone()
        if valid != 1:
            raise SystemExit(f"sites.py: site {site_id} is invalid as built (EPSG:4528): {reason}")
        geojson = mem.execute("SELECT AsGeoJSON(ST_Transform(?, 4490), 9)", (g,)).fetchone()[0]
        geometry = json.loads(geojson)
        props = {"site": site_id, "bucket": bucket, "area_ha": round(area / 1e4, 4), "vertices": npoints,
                 "holes": sum(len(p) - 1 for p in (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                                                   else [geometry["coordinates"]])), **props}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    check_written(mem, features)

    os.makedirs(os.path.join(a.out, "sites"), exist_ok=True)
    for name in os.listdir(os.path.join(a.out, "sites")):   # a site of an earlier run must not linger
        if name.endswith(".geojson"):
            os.remove(os.path.join(a.out, "sites", name))
    with open(os.path.join(a.out, "sites.geojson"), "w") as f:
        json.dump({"type": "FeatureCollection", "name": "bench_sites", "features": features}, f, ensure_ascii=False)
        f.write("\n")
    for feat in features:
        with open(os.path.join(a.out, "sites", feat["properties"]["site"] + ".geojson"), "w") as f:
            json.dump(feat, f, ensure_ascii=False)
            f.write("\n")
    for bucket in BUCKETS:
        fs = [f["properties"] for f in features if f["properties"]["bucket"] == bucket]
        areas = sorted(p["area_ha"] for p in fs)
        verts = sorted(p["vertices"] for p in fs)
        print(f"{bucket}: {len(fs)} sites, {areas[0]:.2f}-{areas[-1]:.2f} ha, {verts[0]}-{verts[-1]} vertices, "
              f"{sum(1 for p in fs if p['holes'])} with holes, {sum(1 for p in fs if p.get('parts', 1) > 1)} in several parts")
    print(f"{len(features)} sites -> {os.path.join(a.out, 'sites.geojson')}")


def check_written(mem, features):
    """Every site as the engines will read it (the 9-decimal lon/lat just written) must be valid
    and of the bucket it claims to be."""
    for feat in features:
        p = feat["properties"]
        valid, reason = mem.execute("SELECT ST_IsValid(g), ST_IsValidReason(g) FROM "
                                    "(SELECT SetSRID(GeomFromGeoJSON(?), 4490) AS g)",
                                    (json.dumps(feat["geometry"]),)).fetchone()
        if valid != 1:
            raise SystemExit(f"sites.py: site {p['site']} ({p['bucket']}) is invalid as written (EPSG:4490): {reason}")
        for bucket, _n, lo, hi in SIZE_BUCKETS:
            if p["bucket"] == bucket and not lo <= p["area_ha"] < hi:
                raise SystemExit(f"sites.py: site {p['site']} is {p['area_ha']} ha, outside its bucket's {lo}-{hi} ha")


if __name__ == "__main__":
    main()
