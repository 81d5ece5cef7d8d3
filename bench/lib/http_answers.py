#!/usr/bin/python3
"""Before the HTTP load: POST each site once, and check the server's answers.

Sends exactly the bodies wrk will send (one GeoJSON Feature a line, in BODIES), one at a
time, and checks that every answer is a 201 with a Location, that its farmland conflicts
equal PostGIS's (the same rule as the CLI rows: ids equal, areas within 1e-6 relative or
1e-4 m^2), and that the whole answer (verdict, every layer's conflicts and areas) equals
the CLI's full check on the same site. Speed with wrong answers counts for nothing, and
wrk sees only status codes. This pass also warms the server before it is timed.

Writes --out (JSON): the comparisons, and the unloaded latency (one request at a time).
"""
import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

from conflict_peers import compare
from onemap_check import farmland_answers, full_answers


# Straight to the server on 127.0.0.1, whatever http_proxy the environment sets.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(url, body):
    """(status, Location, parsed body, ms): an HTTP error status is an answer, not a crash."""
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with OPENER.open(req, timeout=60) as resp:
            status, location, data = resp.status, resp.headers.get("Location"), resp.read()
    except urllib.error.HTTPError as e:
        status, location, data = e.code, None, e.read()
    ms = (time.perf_counter() - t0) * 1000
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = {"unparsable body": data[:200].decode(errors="replace")}
    return status, location, parsed, ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the POST /v1/checks URL")
    ap.add_argument("--bodies", required=True, help="one request body a line")
    ap.add_argument("--postgis", required=True, help="conflict_farmland_postgis.json")
    ap.add_argument("--cli", required=True, help="conflict_full_onemap.json: the CLI's full results by site")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    with open(a.bodies) as f:
        bodies = [line.strip() for line in f if line.strip()]
    with open(a.postgis) as f:
        postgis = json.load(f)["sites"]
    with open(a.cli) as f:
        cli = json.load(f)

    bad, farmland, differs_from_cli, times = [], {}, [], []
    for body in bodies:
        site = json.loads(body)["properties"]["site"]
        status, location, result, ms = post(a.url, body)
        times.append(ms)
        if status != 201 or not location:
            bad.append({"site": site, "status": status, "location": location, "body": result})
            continue
        farmland[site] = farmland_answers(result)
        if full_answers(result) != full_answers(cli[site]):
            differs_from_cli.append(site)

    vs_postgis = compare(farmland, postgis) if not bad else {"equal": False}
    out = {"posted": len(bodies), "not_201": bad[:10], "not_201_count": len(bad),
           "farmland_vs_postgis": vs_postgis,
           "full_differs_from_cli": differs_from_cli, "full_equal_to_cli": not bad and not differs_from_cli,
           "unloaded_ms": {"p50": statistics.median(times), "mean": statistics.mean(times), "max": max(times)}}
    out["equal"] = bool(vs_postgis["equal"] and out["full_equal_to_cli"])
    with open(a.out, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"  HTTP answers: {len(bodies)} posted, {len(bad)} not 201; farmland vs PostGIS equal "
          f"{vs_postgis['equal']}; full answers equal to the CLI's at {len(bodies) - len(bad) - len(differs_from_cli)} "
          f"of {len(bodies)} sites; unloaded p50 {out['unloaded_ms']['p50']:.2f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
