"""The CQL2 filters of /collections/{id}/items against an independent evaluation.

Loads sample layers (pipeline, urban_boundary, ecological_redline) and a small synthetic
layer into a temporary database, starts `onemap serve --open` on it, reads every feature
unfiltered, and then, for every operator of CQL2 in both encodings (cql2-text and
cql2-json), compares the ids the server returns with what Shapely (GEOS) and plain Python
make of the same predicate on the features read. Bad filters must be 400s that say where.

The synthetic layer's coordinates are multiples of 1/64 degree, exact in binary and in the
9 decimals the server writes, so touching and equal geometries are the same in both
evaluations; the sample layers' coordinates are rounded on output, so their literals keep
away from feature boundaries.

Run with Debian's Python (its python3-shapely uses the GEOS the server links):
    /usr/bin/python3 Tests/e2e/cql2_oracle.py --binary .build/debug/onemap
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import urllib.error
import urllib.parse
import urllib.request

from shapely.geometry import shape, Point, LineString, Polygon, MultiPolygon, GeometryCollection, box as shapely_box

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_server import free_port, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEP = 1 / 64
X0, Y0 = 119.5, 28.25

# MARK: the synthetic layer

NAMES = ["Café", "CAFE", "café", "Über", "uber", "naïve", "NAIVE", "丽水", "Lishui", "it's", "100%", "a_b", None]


def grid_features():
    """6 × 6 squares of STEP degrees; attributes that exercise every operator, some null."""
    features = []
    for j in range(6):
        for i in range(6):
            k = j * 6 + i
            x, y = X0 + i * STEP, Y0 + j * STEP
            ring = [[x, y], [x + STEP, y], [x + STEP, y + STEP], [x, y + STEP], [x, y]]
            features.append({
                "type": "Feature",
                "properties": {
                    "BSM": f"G{j}{i}",
                    "NAME": NAMES[k % len(NAMES)],
                    "N": (k * 7) % 23 - 5,
                    "V": None if k % 9 == 4 else round(k * 1.25 - 10.5, 2),
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            })
    return features


def write_catalog(folder):
    """A catalog of three sample layers and the synthetic grid."""
    os.makedirs(folder)
    for name in ("pipeline", "urban_boundary", "ecological_redline"):
        text = open(os.path.join(ROOT, "Layers", f"{name}.yaml"), encoding="utf-8").read()
        text = text.replace("../sampledata/", os.path.join(ROOT, "sampledata") + "/")
        open(os.path.join(folder, f"{name}.yaml"), "w", encoding="utf-8").write(text)
    grid = {"type": "FeatureCollection", "name": "oracle_grid",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
            "features": grid_features()}
    with open(os.path.join(folder, "oracle_grid.geojson"), "w", encoding="utf-8") as f:
        json.dump(grid, f, ensure_ascii=False)
    with open(os.path.join(folder, "oracle_grid.yaml"), "w", encoding="utf-8") as f:
        f.write("name: oracle_grid\ntitle: CQL2 oracle grid\nkind: other\nsource: oracle_grid.geojson\nid_field: BSM\n")


# MARK: the server

class Server:
    def __init__(self, binary, db, log):
        self.port = free_port()
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(self.port), "--open", "--open-rate", "0"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{self.port}/health", 60)

    def get(self, path, params):
        url = f"http://127.0.0.1:{self.port}{path}?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# MARK: Python's evaluation: SQL's three-valued logic, None for unknown

def AND(*xs):
    return False if any(x is False for x in xs) else (None if any(x is None for x in xs) else True)


def OR(*xs):
    return True if any(x is True for x in xs) else (None if any(x is None for x in xs) else False)


def NOT(x):
    return None if x is None else not x


def cmp(op, a, b):
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def arith(op, a, b):
    if a is None or b is None:
        return None
    if op in ("/", "div", "%") and b == 0:
        return None
    if op == "+": return a + b
    if op == "-": return a - b
    if op == "*": return a * b
    if op == "/": return a / b
    if op == "div": return math.trunc(a / b)
    if op == "%": return math.fmod(a, b)
    if op == "^": return a ** b


def casei(s):
    return None if s is None else s.lower()


def accenti(s):
    if s is None:
        return None
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn"))


def like(s, pattern):
    if s is None:
        return None
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1]); i += 2; continue
        out += ".*" if c == "%" else ("." if c == "_" else re.escape(c))
        i += 1
    return re.fullmatch(out, s, re.S) is not None


def between(x, lo, hi):
    return AND(cmp(">=", x, lo), cmp("<=", x, hi))


def in_list(x, items):
    if x is None:
        return None
    return x in items


def spatial(op, g, lit):
    return {"S_INTERSECTS": g.intersects, "S_DISJOINT": g.disjoint, "S_WITHIN": g.within, "S_CONTAINS": g.contains,
            "S_EQUALS": g.equals, "S_TOUCHES": g.touches, "S_OVERLAPS": g.overlaps, "S_CROSSES": g.crosses}[op](lit)


# MARK: literals in both encodings

def num(v):
    return repr(float(v)) if isinstance(v, float) else str(v)


def wkt(g):
    """WKT with every coordinate in Python's shortest round-trip form (Shapely's rounds)."""
    def seq(coords):
        return ", ".join(f"{num(x)} {num(y)}" for x, y in coords)
    if g.geom_type == "Point":
        return f"POINT({num(g.x)} {num(g.y)})"
    if g.geom_type == "LineString":
        return f"LINESTRING({seq(g.coords)})"
    if g.geom_type == "Polygon":
        return "POLYGON(" + ", ".join(f"({seq(r.coords)})" for r in [g.exterior, *g.interiors]) + ")"
    if g.geom_type == "MultiPolygon":
        return "MULTIPOLYGON(" + ", ".join(wkt(p)[len("POLYGON"):] for p in g.geoms) + ")"
    if g.geom_type == "GeometryCollection":
        return "GEOMETRYCOLLECTION(" + ", ".join(wkt(p) for p in g.geoms) + ")"
    raise ValueError(g.geom_type)


def geojson(g):
    return json.loads(json.dumps(g.__geo_interface__))


def rect(x0, y0, x1, y1):
    return shapely_box(x0, y0, x1, y1)


def gx(i):
    return X0 + i * STEP


def gy(j):
    return Y0 + j * STEP


def P(name):
    return {"property": name}


def op(name, *args):
    return {"op": name, "args": list(args)}


# MARK: the cases: (collection, cql2-text, cql2-json, Python predicate of (properties, geometry))

def cases(samples):
    c = []
    grid = "oracle_grid"

    def add(collection, text, js, fn, group=None):
        """`group`: a spatial function whose cases count together (some literals can never
        be within a polygon, say); any other case must select some but not all features."""
        c.append((collection, text, js, fn, group))

    # Comparisons, boolean structure, NULL.
    add(grid, "N = 2", op("=", P("N"), 2), lambda p, g: cmp("=", p["N"], 2))
    add(grid, "N <> 2", op("<>", P("N"), 2), lambda p, g: cmp("<>", p["N"], 2))
    add(grid, "N < 0", op("<", P("N"), 0), lambda p, g: cmp("<", p["N"], 0))
    add(grid, "V > 12.5", op(">", P("V"), 12.5), lambda p, g: cmp(">", p["V"], 12.5))
    add(grid, "V <= -3.0", op("<=", P("V"), -3.0), lambda p, g: cmp("<=", p["V"], -3.0))
    add(grid, "N >= 10", op(">=", P("N"), 10), lambda p, g: cmp(">=", p["N"], 10))
    add(grid, "NAME = 'Café'", op("=", P("NAME"), "Café"), lambda p, g: cmp("=", p["NAME"], "Café"))
    add(grid, "NAME > 'N'", op(">", P("NAME"), "N"), lambda p, g: cmp(">", p["NAME"], "N"))
    add(grid, "N > 3 AND V < 20", op("and", op(">", P("N"), 3), op("<", P("V"), 20)),
        lambda p, g: AND(cmp(">", p["N"], 3), cmp("<", p["V"], 20)))
    add(grid, "N = 1 OR V > 25 OR NAME = 'uber'", op("or", op("=", P("N"), 1), op(">", P("V"), 25), op("=", P("NAME"), "uber")),
        lambda p, g: OR(cmp("=", p["N"], 1), cmp(">", p["V"], 25), cmp("=", p["NAME"], "uber")))
    add(grid, "NOT (V > 3)", op("not", op(">", P("V"), 3)), lambda p, g: NOT(cmp(">", p["V"], 3)))
    add(grid, "N < V", op("<", P("N"), P("V")), lambda p, g: cmp("<", p["N"], p["V"]))
    add(grid, "V IS NULL", op("isNull", P("V")), lambda p, g: p["V"] is None)
    add(grid, "NAME IS NOT NULL", op("not", op("isNull", P("NAME"))), lambda p, g: p["NAME"] is not None)
    add(grid, "TRUE AND N = 3", op("and", True, op("=", P("N"), 3)), lambda p, g: cmp("=", p["N"], 3))
    # Advanced comparisons.
    add(grid, "NAME LIKE 'Caf%'", op("like", P("NAME"), "Caf%"), lambda p, g: like(p["NAME"], "Caf%"))
    add(grid, "NAME LIKE '_AFE'", op("like", P("NAME"), "_AFE"), lambda p, g: like(p["NAME"], "_AFE"))
    add(grid, "NAME NOT LIKE '%e'", op("not", op("like", P("NAME"), "%e")), lambda p, g: NOT(like(p["NAME"], "%e")))
    add(grid, "NAME LIKE '100\\%'", op("like", P("NAME"), "100\\%"), lambda p, g: like(p["NAME"], "100\\%"))
    add(grid, "NAME LIKE 'a\\_%'", op("like", P("NAME"), "a\\_%"), lambda p, g: like(p["NAME"], "a\\_%"))
    add(grid, "N BETWEEN -2 AND 6", op("between", P("N"), -2, 6), lambda p, g: between(p["N"], -2, 6))
    add(grid, "V NOT BETWEEN 0 AND 20", op("not", op("between", P("V"), 0, 20)), lambda p, g: NOT(between(p["V"], 0, 20)))
    add(grid, "N IN (1, 2, 3, 17)", op("in", P("N"), [1, 2, 3, 17]), lambda p, g: in_list(p["N"], [1, 2, 3, 17]))
    add(grid, "NAME NOT IN ('Café', 'uber')", op("not", op("in", P("NAME"), ["Café", "uber"])),
        lambda p, g: NOT(in_list(p["NAME"], ["Café", "uber"])))
    # Case and accent folding.
    add(grid, "CASEI(NAME) = CASEI('cafe')", op("=", op("casei", P("NAME")), op("casei", "cafe")),
        lambda p, g: cmp("=", casei(p["NAME"]), casei("cafe")))
    add(grid, "ACCENTI(NAME) = ACCENTI('Cafe')", op("=", op("accenti", P("NAME")), op("accenti", "Cafe")),
        lambda p, g: cmp("=", accenti(p["NAME"]), accenti("Cafe")))
    add(grid, "CASEI(ACCENTI(NAME)) = 'uber'", op("=", op("casei", op("accenti", P("NAME"))), "uber"),
        lambda p, g: cmp("=", casei(accenti(p["NAME"])), "uber"))
    add(grid, "CASEI(NAME) LIKE CASEI('NA%')", op("like", op("casei", P("NAME")), op("casei", "NA%")),
        lambda p, g: like(casei(p["NAME"]), casei("NA%")))
    add(grid, "ACCENTI(NAME) LIKE ACCENTI('naï%')", op("like", op("accenti", P("NAME")), op("accenti", "naï%")),
        lambda p, g: like(accenti(p["NAME"]), accenti("naï%")))
    # Arithmetic, with precedence, parentheses and division by zero.
    add(grid, "N + 2 * 3 > 10", op(">", op("+", P("N"), op("*", 2, 3)), 10),
        lambda p, g: cmp(">", arith("+", p["N"], 6), 10))
    add(grid, "(N + 2) * 3 > 10", op(">", op("*", op("+", P("N"), 2), 3), 10),
        lambda p, g: cmp(">", arith("*", arith("+", p["N"], 2), 3), 10))
    add(grid, "N - 3 - 2 = 0", op("=", op("-", op("-", P("N"), 3), 2), 0), lambda p, g: cmp("=", arith("-", arith("-", p["N"], 3), 2), 0))
    add(grid, "N / 4 > 1.5", op(">", op("/", P("N"), 4), 1.5), lambda p, g: cmp(">", arith("/", p["N"], 4), 1.5))
    add(grid, "N div 4 = 1", op("=", op("div", P("N"), 4), 1), lambda p, g: cmp("=", arith("div", p["N"], 4), 1))
    add(grid, "N % 3 = 1", op("=", op("%", P("N"), 3), 1), lambda p, g: cmp("=", arith("%", p["N"], 3), 1))
    add(grid, "V % 2.5 < 1", op("<", op("%", P("V"), 2.5), 1), lambda p, g: cmp("<", arith("%", p["V"], 2.5), 1))
    add(grid, "2 ^ N > 100", op(">", op("^", 2, P("N")), 100), lambda p, g: cmp(">", arith("^", 2, p["N"]), 100))
    add(grid, "-N > 2", op(">", op("-", 0, P("N")), 2), lambda p, g: cmp(">", arith("-", 0, p["N"]), 2))
    add(grid, "V / (N - 2) > 1", op(">", op("/", P("V"), op("-", P("N"), 2)), 1),
        lambda p, g: cmp(">", arith("/", p["V"], arith("-", p["N"], 2)), 1))
    add(grid, "NOT (10 / (N - 2) > 1)", op("not", op(">", op("/", 10, op("-", P("N"), 2)), 1)),
        lambda p, g: NOT(cmp(">", arith("/", 10, arith("-", p["N"], 2)), 1)))
    add(grid, "N * 1.5 BETWEEN V AND V + 10", op("between", op("*", P("N"), 1.5), P("V"), op("+", P("V"), 10)),
        lambda p, g: between(arith("*", p["N"], 1.5), p["V"], arith("+", p["V"], 10)))

    # Spatial functions on the grid, with literals on its lines: touching and equality are exact.
    square = rect(gx(1), gy(1), gx(3), gy(3))
    corner = Point(gx(2), gy(4))
    edge_line = LineString([(gx(0), gy(2)), (gx(4), gy(2))])
    crossing = LineString([(gx(0.5), gy(0.5)), (gx(4.5), gy(3.25))])
    overlapping = Polygon([(gx(2.5), gy(2.5)), (gx(5), gy(2.5)), (gx(5), gy(5)), (gx(2.5), gy(2.5))])
    cell = rect(gx(4), gy(1), gx(5), gy(2))
    inside = Point(gx(3.5), gy(0.5))
    two_cells = MultiPolygon([rect(gx(0), gy(5), gx(1), gy(6)), rect(gx(5), gy(5), gx(6), gy(6))])
    mixed = GeometryCollection([Point(gx(4.5), gy(4.5)), LineString([(gx(0.25), gy(3.5)), (gx(2.5), gy(3.5))])])
    literals = [square, corner, edge_line, crossing, overlapping, cell, inside, two_cells, mixed]
    for name in ("S_INTERSECTS", "S_DISJOINT", "S_WITHIN", "S_CONTAINS", "S_EQUALS", "S_TOUCHES", "S_OVERLAPS", "S_CROSSES"):
        for lit in literals:
            add(grid, f"{name}(geometry, {wkt(lit)})", op(name.lower(), P("geometry"), geojson(lit)),
                lambda p, g, name=name, lit=lit: spatial(name, g, lit), group=name)
        # The literal first: S_WITHIN(literal, geometry) is the feature containing it, and so on.
        for lit in (square, inside):
            add(grid, f"{name}({wkt(lit)}, geometry)", op(name.lower(), geojson(lit), P("geometry")),
                lambda p, g, name=name, lit=lit: spatial(name, lit, g), group=name)
    add(grid, f"S_INTERSECTS(geometry, BBOX({gx(1.5)}, {gy(1.5)}, {gx(3)}, {gy(2)}))",
        op("s_intersects", P("geometry"), {"bbox": [gx(1.5), gy(1.5), gx(3), gy(2)]}),
        lambda p, g: g.intersects(rect(gx(1.5), gy(1.5), gx(3), gy(2))))
    add(grid, "S_TOUCHES(geometry, geometry)", op("s_touches", P("geometry"), P("geometry")), lambda p, g: g.touches(g), group="self")
    add(grid, "S_EQUALS(geometry, geometry)", op("s_equals", P("geometry"), P("geometry")), lambda p, g: g.equals(g), group="self")
    centre = Point(gx(2), gy(2))
    add(grid, f"S_CONTAINS({wkt(square)}, {wkt(centre)}) AND N > 5",
        op("and", op("s_contains", geojson(square), geojson(centre)), op(">", P("N"), 5)),
        lambda p, g: AND(square.contains(centre), cmp(">", p["N"], 5)))
    add(grid, f"S_TOUCHES({wkt(square)}, {wkt(centre)}) OR N > 5",
        op("or", op("s_touches", geojson(square), geojson(centre)), op(">", P("N"), 5)),
        lambda p, g: OR(square.touches(centre), cmp(">", p["N"], 5)))
    add(grid, f"NOT S_INTERSECTS(geometry, {wkt(square)}) AND N < 5",
        op("and", op("not", op("s_intersects", P("geometry"), geojson(square))), op("<", P("N"), 5)),
        lambda p, g: AND(NOT(g.intersects(square)), cmp("<", p["N"], 5)))

    # The sample layers: real shapes, literals well inside or across them.
    for collection, feats in samples.items():
        union_box = shapely_box(*_bounds([f[1] for f in feats]))
        x0, y0, x1, y1 = union_box.bounds
        w, h = x1 - x0, y1 - y0
        probe = rect(x0 + w * 0.31, y0 + h * 0.29, x0 + w * 0.62, y0 + h * 0.58)
        cut = LineString([(x0 + w * 0.113, y0 + h * 0.071), (x0 + w * 0.887, y0 + h * 0.913)])
        big = rect(x0 - w * 0.01, y0 - h * 0.01, x0 + w * 0.553, y1 + h * 0.01)
        # A point well inside one feature (or on a line), and a small square around it.
        g = feats[len(feats) // 2][1]
        point = g.representative_point()
        point = Point(round(point.x, 7) + 1e-8, round(point.y, 7) + 1e-8) if g.geom_type.endswith("Polygon") else point
        small = rect(point.x - 2e-4, point.y - 2e-4, point.x + 2e-4, point.y + 2e-4)
        for name in ("S_INTERSECTS", "S_DISJOINT", "S_WITHIN", "S_CONTAINS", "S_OVERLAPS", "S_CROSSES"):
            for lit in (probe, cut, big, small) + ((point,) if g.geom_type.endswith("Polygon") else ()):
                add(collection, f"{name}(geometry, {wkt(lit)})", op(name.lower(), P("geometry"), geojson(lit)),
                    lambda p, g, name=name, lit=lit: spatial(name, g, lit), group=name)
    pipes = samples["pipeline"]
    add("pipeline", "GJ > 400 AND GJ * 2 < 1500", op("and", op(">", P("GJ"), 400), op("<", op("*", P("GJ"), 2), 1500)),
        lambda p, g: AND(cmp(">", p["GJ"], 400), cmp("<", arith("*", p["GJ"], 2), 1500)))
    add("pipeline", "GDMC LIKE '%输气%'", op("like", P("GDMC"), "%输气%"), lambda p, g: like(p["GDMC"], "%输气%"))
    add("urban_boundary", "XZQMC IN ('莲都区', '龙泉市')", op("in", P("XZQMC"), ["莲都区", "龙泉市"]),
        lambda p, g: in_list(p["XZQMC"], ["莲都区", "龙泉市"]))
    assert pipes, "the pipeline layer is empty"
    return c


def _bounds(geoms):
    b = [g.bounds for g in geoms]
    return min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b)


# Bad filters: (encoding, filter, what the description must say).
BAD = [
    ("cql2-text", "N = 1 AND NOPE = 2", "at character 11: unknown property 'NOPE'"),
    ("cql2-text", "N = 1 OR NAME > 3", "at character 10: cannot compare"),
    ("cql2-text", "N + = 3", "at character 5"),
    ("cql2-text", "CASEI(N) = 'a'", "CASEI needs text"),
    ("cql2-text", "NAME LIKE N", "at character 11: LIKE needs a quoted pattern"),
    ("cql2-text", "S_TOUCHES(geometry, POLYGON((0 0, 1 0, 0 1)))", "at least 4 positions"),
    ("cql2-json", '{"op": "=", "args": [{"property": "N"}, 1]', "at character 43"),
    ("cql2-json", '{"op": "and", "args": [{"op": "=", "args": [{"property": "NOPE"}, 1]}, true]}', "at character 58: unknown property 'NOPE'"),
    ("cql2-json", '{"op": "like", "args": [{"property": "NAME"}, 3]}', "at character 47"),
    ("cql2-json", '{"op": "t_before", "args": []}', "temporal"),
    ("cql2-json", '{"op": "s_crosses", "args": [{"property": "geometry"}, {"type": "Circle", "coordinates": [1, 2]}]}', "GeoJSON geometry type"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--verbose", action="store_true", help="list the cases that select none or all features")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    tmp = tempfile.mkdtemp(prefix="onemap-cql2-")
    server = None
    try:
        catalog = os.path.join(tmp, "catalog")
        write_catalog(catalog)
        db = os.path.join(tmp, "oracle.sqlite")
        r = subprocess.run([binary, "load", "--catalog", catalog, "--db", db, "--json"], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            sys.exit(f"onemap load failed: {r.stderr or r.stdout}")
        server = Server(binary, db, os.path.join(tmp, "serve.log"))

        status, conf = server.get("/conformance", {})
        declared = set(conf.get("conformsTo", []))
        for cls in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators", "case-insensitive-comparison",
                    "accent-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus",
                    "spatial-functions", "arithmetic"):
            if f"http://www.opengis.net/spec/cql2/1.0/conf/{cls}" not in declared:
                sys.exit(f"/conformance does not declare {cls}, which this test checks")

        features = {}
        for collection in ("oracle_grid", "pipeline", "urban_boundary", "ecological_redline"):
            status, body = server.get(f"/collections/{collection}/items", {"limit": 10000})
            if status != 200:
                sys.exit(f"{collection}: unfiltered items answered {status}: {body}")
            features[collection] = [(f["properties"], shape(f["geometry"]), f["id"]) for f in body["features"]]
        samples = {k: [(p, g) for p, g, _ in v] for k, v in features.items() if k != "oracle_grid"}

        failures, trivial = [], 0
        table = cases(samples)
        telling = {}  # (spatial function, grid or sample) -> cases that select some but not all
        for collection, text, js, fn, group in table:
            expected = sorted(fid for p, g, fid in features[collection] if fn(p, g) is True)
            where = "grid" if collection == "oracle_grid" else "sample"
            if not expected or len(expected) == len(features[collection]):
                trivial += 1
                if args.verbose:
                    print(f"  selects {len(expected)} of {len(features[collection])}: {collection} {text[:100]}")
                if group is None:
                    failures.append(f"{collection} {text}: selects {len(expected)} of {len(features[collection])}; pick a telling literal")
            elif group:
                telling[(group, where)] = telling.get((group, where), 0) + 1
            for lang, filt in (("cql2-text", text), ("cql2-json", json.dumps(js, ensure_ascii=False))):
                status, body = server.get(f"/collections/{collection}/items",
                                          {"filter": filt, "filter-lang": lang, "limit": 10000})
                if status != 200:
                    failures.append(f"{collection} {lang} {filt}: {status} {body.get('description', body)}")
                    continue
                got = sorted(f["id"] for f in body["features"])
                if got != expected:
                    missing = sorted(set(expected) - set(got))[:8]
                    extra = sorted(set(got) - set(expected))[:8]
                    failures.append(f"{collection} {lang} {filt[:160]}: {len(got)} ids, expected {len(expected)}; "
                                    f"missing {missing}, extra {extra}")
        # Every spatial function must select some but not all features somewhere, or its
        # cases would prove little: on the grid each one, on the sample layers all but the
        # two that need exact coordinates (the output rounds them to 9 decimals).
        for name in ("S_INTERSECTS", "S_DISJOINT", "S_WITHIN", "S_CONTAINS", "S_EQUALS", "S_TOUCHES", "S_OVERLAPS", "S_CROSSES"):
            for where in ("grid", "sample"):
                if telling.get((name, where), 0) == 0 and not (where == "sample" and name in ("S_EQUALS", "S_TOUCHES")):
                    failures.append(f"no {where} case of {name} selects some but not all features")

        for lang, filt, says in BAD:
            status, body = server.get("/collections/oracle_grid/items", {"filter": filt, "filter-lang": lang})
            description = body.get("description", "")
            if status != 400 or body.get("code") != "InvalidParameterValue" or says not in description:
                failures.append(f"bad {lang} filter {filt}: {status} {description!r}, expected 400 saying {says!r}")

        print(f"cql2 oracle: {len(table)} cases × 2 encodings, {len(BAD)} bad filters; {trivial} cases select none or all")
        if failures:
            print(f"{len(failures)} FAILURES:")
            for f in failures:
                print("  " + f)
            sys.exit(1)
        print("cql2 oracle: every filter matches Shapely and Python")
    finally:
        if server:
            server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
