#!/usr/bin/python3
"""Before the HTTP load: POST each site, check the server's answers, and time the HTTP overhead.

Sends exactly the bodies wrk will send (one GeoJSON Feature a line, in BODIES), one at a
time, on one kept-alive connection, and checks that every answer is a 201 with a Location,
that its farmland conflicts equal PostGIS's (the same rule as the CLI rows: ids equal, areas
within 1e-6 relative or 1e-4 m^2), and that the whole answer (verdict, every layer's conflicts
and areas) equals the CLI's full check on the same site. Speed with wrong answers counts for
nothing, and wrk sees only status codes. This pass also warms the server before it is timed.

Then the overhead of the HTTP path (issue 20), per bucket of sites, in ROUNDS rounds. In each
round, per bucket: the in-process time, `onemap check BUCKET.geojson --each --no-record` (the
full check, the CLI the conflict row runs, on the same database) timing itself, then every
site of the bucket, each `POST /v1/checks` (the full check, record kept) right after a `GET
/health` on the same connection. A site's HTTP time is the median over the rounds of POST
minus the health round trip just before it (the client's own round trip, the loopback and
the server's fixed cost of any request); the bucket's figure is the median over its sites;
the overhead is that minus the median over the rounds of the CLI's median for the bucket (it
prints a median per process, not a time per site). The CLI runs beside the HTTP rounds, not
taken from the conflict row minutes earlier, so drift on a shared machine hits both alike.
Issue 20's target: at most 1 ms plus 10% of the in-process time.

Writes --out (JSON): the comparisons, the unloaded latency, and the figures per bucket.
"""
import argparse
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.parse

from conflict_peers import compare, load_sites, write_groups
from onemap_check import OneMapEngine, farmland_answers, full_answers


class Client:
    """One kept-alive connection to the server, straight to 127.0.0.1 (no proxy)."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.conn.connect()
        # The request goes out in one send (http.client joins headers and a bytes body); no Nagle.
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method, path, body=None):
        """(status, headers, body bytes, ms from sending to the last byte read)."""
        if self.conn is None:
            self._connect()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        t0 = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - t0) * 1000
        if resp.will_close:
            self.conn.close()
            self.conn = None
        return resp.status, resp.headers, data, ms


def parse(data):
    try:
        return json.loads(data)
    except ValueError:
        return {"unparsable body": data[:200].decode(errors="replace")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the POST /v1/checks URL")
    ap.add_argument("--bodies", required=True, help="one request body a line")
    ap.add_argument("--postgis", required=True, help="conflict_farmland_postgis.json")
    ap.add_argument("--cli", required=True, help="conflict_full_onemap.json: the CLI's full results by site")
    ap.add_argument("--conflict", required=True, help="conflict_farmland.json: the conflict row's in-process times, "
                    "given beside this run's for reference")
    ap.add_argument("--sites", required=True, help="sites.geojson, the sites the bodies hold")
    ap.add_argument("--onemap", required=True, help="the onemap binary")
    ap.add_argument("--onemap-db", required=True, help="the benchmark database (not the server's copy)")
    ap.add_argument("--work", required=True, help="scratch folder for the CLI's sites files and outputs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    with open(a.bodies) as f:
        bodies = [line.strip().encode() for line in f if line.strip()]
    with open(a.postgis) as f:
        postgis = json.load(f)["sites"]
    with open(a.cli) as f:
        cli = json.load(f)
    with open(a.conflict) as f:
        conflict_row = json.load(f)["engines"]["onemap_full"]["groups"]
    sites = [(p["site"], p.get("bucket", "all")) for p in (json.loads(b)["properties"] for b in bodies)]

    client = Client(a.url)
    health = "/health"
    bad, farmland, differs_from_cli, times, sizes = [], {}, [], [], {}
    for (site, _), body in zip(sites, bodies):
        status, headers, data, ms = client.request("POST", client.path, body)
        times.append(ms)
        result = parse(data)
        sizes[site] = len(data)
        if status != 201 or not headers.get("Location"):
            bad.append({"site": site, "status": status, "location": headers.get("Location"), "body": result})
            continue
        farmland[site] = farmland_answers(result)
        if full_answers(result) != full_answers(cli[site]):
            differs_from_cli.append(site)

    # The timed rounds: the answers are known good now; a status other than 201 still fails.
    groups = write_groups(a.sites, load_sites(a.sites), a.work)
    cli = OneMapEngine("http_cli", "OneMap full check beside the HTTP rounds", a.onemap, a.onemap_db, groups, a.work)
    open(cli.log, "w").close()
    body_of = {site: body for (site, _), body in zip(sites, bodies)}
    missing = [s for _, _, ids in groups for s in ids if s not in body_of]
    if missing:
        sys.exit(f"http_answers.py: sites without a request body: {missing[:5]}")
    net = {site: [] for site, _ in sites}
    cli_ms = {g: [] for g, _, _ in groups}
    rtt = []
    for _ in range(a.rounds):
        cli_ms["all"].append(cli.run_group(*groups[0])[1])
        for g, path, ids in groups[1:] or groups:
            if g != "all":
                cli_ms[g].append(cli.run_group(g, path, ids)[1])
            for site in ids:
                hs, _, _, hms = client.request("GET", health)
                ps, _, _, pms = client.request("POST", client.path, body_of[site])
                if hs != 200 or ps != 201:
                    sys.exit(f"http_answers.py: {site}: GET /health {hs}, POST {ps} in the timed rounds")
                rtt.append(hms)
                net[site].append(pms - hms)

    buckets = {}
    for g in ["all"] + [b for b in dict.fromkeys(b for _, b in sites) if b != "all"]:
        ids = [s for s, b in sites if g in ("all", b)]
        per_site = [statistics.median(net[s]) for s in ids]
        http_ms = statistics.median(per_site)
        engine_ms = statistics.median(cli_ms[g])
        overhead = http_ms - engine_ms
        allowed = 1.0 + 0.1 * engine_ms
        fl = {s: farmland[s] for s in ids if s in farmland}
        buckets[g] = {"sites": len(ids), "http_minus_rtt_p50_ms": http_ms, "in_process_median_ms": engine_ms,
                      "in_process_by_round_ms": cli_ms[g], "conflict_row_median_ms": conflict_row[g]["median_ms"],
                      "overhead_p50_ms": overhead, "allowed_ms": allowed, "target_met": overhead <= allowed,
                      "answer_bytes_median": statistics.median(sizes[s] for s in ids),
                      "answer_bytes_max": max(sizes[s] for s in ids),
                      "farmland_vs_postgis": compare(fl, {s: postgis[s] for s in fl}),
                      "full_differs_from_cli": [s for s in differs_from_cli if s in ids],
                      "not_201": [x["site"] for x in bad if x["site"] in ids]}

    vs_postgis = compare(farmland, postgis) if not bad else {"equal": False}
    out = {"posted": len(bodies), "not_201": bad[:10], "not_201_count": len(bad),
           "farmland_vs_postgis": vs_postgis,
           "full_differs_from_cli": differs_from_cli, "full_equal_to_cli": not bad and not differs_from_cli,
           "unloaded_ms": {"p50": statistics.median(times), "mean": statistics.mean(times), "max": max(times)},
           "rounds": a.rounds, "health_rtt_ms": {"p50": statistics.median(rtt), "max": max(rtt)},
           "buckets": buckets}
    out["equal"] = bool(vs_postgis["equal"] and out["full_equal_to_cli"])
    with open(a.out, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"  HTTP answers: {len(bodies)} posted, {len(bad)} not 201; farmland vs PostGIS equal "
          f"{vs_postgis['equal']}; full answers equal to the CLI's at {len(bodies) - len(bad) - len(differs_from_cli)} "
          f"of {len(bodies)} sites; GET /health round trip p50 {out['health_rtt_ms']['p50']:.3f} ms", file=sys.stderr)
    for g, x in buckets.items():
        print(f"  HTTP {g}: POST - /health p50 {x['http_minus_rtt_p50_ms']:.2f} ms, in process {x['in_process_median_ms']:.2f} ms, "
              f"overhead {x['overhead_p50_ms']:+.2f} ms (target <= {x['allowed_ms']:.2f}: {x['target_met']}), "
              f"answers {x['answer_bytes_median'] / 1024:.1f} KiB median", file=sys.stderr)


if __name__ == "__main__":
    main()
