#!/usr/bin/python3
"""Issue 24's replica figures: how long a server takes from its start to its first answered
check (a SpatiaLite file, or a PostGIS database copied into an empty or a warm local copy),
and how long after a load's end a replica serves the new version.

  replica_bench.py startup --binary B --db DB_OR_URL [--cache F] --site S --port P
  replica_bench.py follow --binary B --url URL --catalog DIR --layer L --port P --cache F

Each prints one JSON object on stdout. Python's standard library only.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def serve(a, log):
    args = [a.binary, "serve", "--db", a.db if hasattr(a, "db") else a.url, "--port", str(a.port), "--open"]
    if a.cache:
        args += ["--cache", a.cache]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


def wait_answering(base, deadline):
    while time.time() < deadline:
        try:
            if get(base + "/v1/layers")[0] == 200:
                return True
        except Exception:
            time.sleep(0.02)
    return False


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()


@contextlib.contextmanager
def answering(a, base):
    """`onemap serve` started, until it answers; yields the time it was started; stopped after."""
    with open(a.log, "w") as log:
        t0 = time.time()
        p = serve(a, log)
        try:
            if not wait_answering(base, t0 + 600):
                sys.exit(f"the server did not answer within 600 s (see {a.log})")
            yield t0
        finally:
            stop(p)


def cmd_startup(a):
    base = f"http://127.0.0.1:{a.port}"
    body = open(a.site, "rb").read()
    with answering(a, base) as t0:
        listening = time.time() - t0
        req = urllib.request.Request(base + "/v1/checks", data=body, method="POST",
                                     headers={"Content-Type": "application/geo+json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            status = r.status
        checked = time.time() - t0
    print(json.dumps({"answering_s": listening, "first_check_s": checked, "status": status}))


def cmd_follow(a):
    base = f"http://127.0.0.1:{a.port}"
    def number():
        layers = json.loads(get(base + "/v1/layers")[1])
        layers = layers["layers"] if isinstance(layers, dict) else layers
        return next(l["versionNumber"] for l in layers if l["name"] == a.layer)

    with answering(a, base):
        before = number()
        t1 = time.time()
        subprocess.run([a.binary, "load", "--catalog", a.catalog, "--layers", a.layer, "--db", a.url],
                       check=True, stdout=subprocess.DEVNULL)
        loaded = time.time()
        while number() == before:
            if time.time() - loaded > 600:
                sys.exit("the replica did not serve the new version within 600 s")
            time.sleep(0.01)
        served = time.time()
    print(json.dumps({"load_s": loaded - t1, "served_after_load_s": served - loaded}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("startup")
    s.add_argument("--binary", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--cache")
    s.add_argument("--site", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--log", required=True)
    f = sub.add_parser("follow")
    f.add_argument("--binary", required=True)
    f.add_argument("--url", required=True)
    f.add_argument("--catalog", required=True)
    f.add_argument("--layer", required=True)
    f.add_argument("--cache", required=True)
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--log", required=True)
    a = ap.parse_args()
    {"startup": cmd_startup, "follow": cmd_follow}[a.cmd](a)


if __name__ == "__main__":
    main()
