#!/usr/bin/env python3
"""The request mix of the 60-second load test (issue 10), for lib/wrk_mix.lua.

One request a line, METHOD<TAB>PATH[<TAB>BODY], shuffled with a fixed seed, in these shares:
  tiles     45%  farmland tiles of the cold list (z8-z16) and composite /tiles/onemap/ tiles
                 at the same keys (every public layer)
  items     20%  /collections/farmland/items?bbox=...&limit=100 over the feature bench's boxes
  identify  20%  /v1/identify?lon=&lat= at the sites' first vertices (on farmland or near it)
  checks    15%  POST /v1/checks with the sites' GeoJSON Features, every bucket (full check, stored)
Every request is meant to succeed: the tiles are all over the data (an empty one is a
204, a success), so any status outside 2xx is an error.
"""
import argparse
import json
import os
import random

SHARES = {"tiles": 45, "items": 20, "identify": 20, "checks": 15}
LINES = 400


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", required=True)
    ap.add_argument("--bboxes", required=True)
    ap.add_argument("--sites", required=True, help="folder of one-line GeoJSON Features")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", required=True)
    ap.add_argument("--summary", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    spec = json.load(open(a.tiles))
    tiles = []
    for z in spec["zooms"]:
        for x, y in spec["tiles"][str(z)]:
            tiles.append(f"GET\t/tiles/farmland/{z}/{x}/{y}.mvt")
            tiles.append(f"GET\t/tiles/onemap/{z}/{x}/{y}.mvt")
    boxes = json.load(open(a.bboxes))["boxes"]
    items = [f"GET\t/collections/farmland/items?bbox={','.join(repr(v) for v in b['bbox'])}&limit=100" for b in boxes]
    by_bucket = {}
    for name in sorted(os.listdir(a.sites)):
        if not name.endswith(".geojson"):
            continue
        with open(os.path.join(a.sites, name)) as f:
            body = f.read().strip()
        if "\n" in body or "\t" in body:
            raise SystemExit(f"load_mix: {name} is not one line")
        by_bucket.setdefault(json.loads(body)["properties"].get("bucket", "all"), []).append(body)
    # The buckets taken in turn, so the checks the mix uses (fewer than the sites) are of every size.
    queues = list(by_bucket.values())
    ordered = [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
    bodies, points = [], []
    for body in ordered:
        bodies.append(f"POST\t/v1/checks\t{body}")
        g = json.loads(body)["geometry"]
        lon, lat = (g["coordinates"][0][0][0] if g["type"] == "MultiPolygon" else g["coordinates"][0][0])
        points.append(f"GET\t/v1/identify?lon={lon!r}&lat={lat!r}")
    pools = {"tiles": tiles, "items": items, "identify": points, "checks": bodies}
    lines = []
    for kind, share in SHARES.items():
        n = LINES * share // 100
        pool = pools[kind]
        lines += [pool[i % len(pool)] for i in range(n)]
    rng.shuffle(lines)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.summary, "w") as f:
        json.dump({"lines": len(lines), "shares_percent": SHARES,
                   "distinct": {k: len(v) for k, v in pools.items()}}, f)


if __name__ == "__main__":
    main()
