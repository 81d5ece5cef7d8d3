#!/usr/bin/env python3
"""Crash safety (issue 10): SIGKILL at random moments loses nothing acknowledged and corrupts nothing.

(a) `onemap serve --open` on a copy of a database loaded from the sample catalog answers
    POST /v1/checks from several threads (the sites of sampledata/projects); the server is
    SIGKILLed at a random moment and started again on the same file. Every check that got a 201,
    in this round or any before, must read back with GET /v1/checks/{id} byte for byte as the
    201's body.
(b) `onemap load --layers L` (a new version of a layer) is SIGKILLed at a random moment of the
    load. Afterwards the layer is at its old version (`onemap layers --json` and
    /v1/layers/L/versions), no table of the killed load is left, `PRAGMA integrity_check` says ok
    (sqlite3 CLI), and the server serves the layer: its items and a tile. A load run to the end
    afterwards still makes the next version.

Each part repeats --rounds times (default 20) at moments drawn from a seeded generator (--seed),
so a failing round can be replayed. Prints one line per round and a summary; exits 1 on any
failure.

Usage: python3 Tests/e2e/crash_safety.py [--binary .build-fuzz/debug/onemap] [--rounds 20] [--seed 10]
Needs: the onemap binary, sqlite3 (Debian), Python's standard library.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from e2e_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Server:
    """`onemap serve --open` on a database, on a free port, with its log in a file."""

    def __init__(self, binary, db, workdir, log):
        self.port = free_port()
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            # --open-rate 0: thousands of checks from one client are the point here.
            [binary, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(self.port), "--open", "--open-rate", "0"],
            cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} on start; see {log}")
            try:
                status, _, _ = self.request("GET", "/health", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not answer /health within 60 s; see {log}")

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            conn.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def sites():
    """The sample projects as (body, content type)."""
    folder = os.path.join(ROOT, "sampledata", "projects")
    out = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            data = f.read()
        if name.endswith(".geojson"):
            out.append((name, data, "application/geo+json"))
        elif name.endswith(".txt") and name != "MANIFEST.txt":
            out.append((name, data, "text/plain"))
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def layers_json(binary, db, workdir):
    r = run([binary, "layers", "--db", db, "--json"], cwd=workdir, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"onemap layers failed: {r.stderr or r.stdout}")
    return {l["name"]: l for l in json.loads(r.stdout)}


def integrity(db):
    r = run(["sqlite3", db, "PRAGMA integrity_check;"], timeout=300)
    return (r.stdout.strip() or r.stderr.strip())


def layer_tables(db, layer):
    r = run(["sqlite3", db, f"SELECT name FROM sqlite_master WHERE name LIKE 'lyr_{layer}_%' ORDER BY name;"], timeout=60)
    return r.stdout.split()


def tile_of(lon, lat, z):
    import math
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# MARK: (a) killing the server while it answers checks

def part_a(args, rng, binary, base_db, tmp):
    db = os.path.join(tmp, "serve.sqlite")
    shutil.copy(base_db, db)
    log = os.path.join(tmp, "serve.log")
    bodies = sites()
    acknowledged = {}   # id -> the 201's body
    failures = []
    totals = {"posted": 0, "created": 0, "failed_in_flight": 0, "other_status": 0}
    for round_no in range(1, args.rounds + 1):
        server = Server(binary, db, ROOT, log)
        # Everything acknowledged before this start must still be there.
        lost = verify(server, acknowledged)
        if lost:
            failures.append(f"a{round_no}: on restart, {len(lost)} acknowledged checks differ or are missing: {lost[:3]}")
        stop = threading.Event()
        lock = threading.Lock()
        created_this_round = []

        def worker(worker_no):
            wr = random.Random(args.seed * 1000 + round_no * 10 + worker_no)
            conn = None
            while not stop.is_set():
                name, body, ctype = wr.choice(bodies)
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    conn.request("POST", "/v1/checks", body=body, headers={"Content-Type": ctype, "X-Request-Id": f"crash-a{round_no}-{worker_no}"})
                    r = conn.getresponse()
                    data = r.read()
                    with lock:
                        totals["posted"] += 1
                    if r.status == 201:
                        check_id = json.loads(data)["id"]
                        with lock:
                            acknowledged[check_id] = data
                            created_this_round.append(check_id)
                            totals["created"] += 1
                    else:
                        with lock:
                            totals["other_status"] += 1
                        if r.status >= 500 and r.status != 503:
                            failures.append(f"a{round_no}: {name} answered {r.status}: {data[:200]!r}")
                except (OSError, http.client.HTTPException, ValueError):
                    # The kill: the connection broke before a whole answer came back. Nothing was acknowledged.
                    with lock:
                        totals["failed_in_flight"] += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    if server.proc.poll() is not None:
                        return
                    time.sleep(0.01)
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        # The first answers are slow (a cold cache); kill at a random moment once checks flow.
        warm = time.time()
        while not created_this_round and time.time() - warm < 60 and not failures:
            time.sleep(0.01)
        moment = rng.uniform(0.0, args.max_moment)
        time.sleep(moment)
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        print(f"  a{round_no:02d}: killed the server {moment:.2f} s after the first 201; {len(created_this_round)} checks acknowledged this round, {len(acknowledged)} in all", flush=True)
    # The last restart verifies the last round.
    server = Server(binary, db, ROOT, log)
    try:
        lost = verify(server, acknowledged)
        if lost:
            failures.append(f"final restart: {len(lost)} acknowledged checks differ or are missing: {lost[:3]}")
        status, body, _ = server.request("GET", "/v1/checks?limit=1")
        total = json.loads(body).get("total", -1) if status == 200 else -1
        if total < len(acknowledged):
            failures.append(f"the store lists {total} checks, fewer than the {len(acknowledged)} acknowledged")
    finally:
        server.stop()
    r = integrity(db)
    if r != "ok":
        failures.append(f"integrity_check after the server kills: {r[:300]}")
    return {"rounds": args.rounds, "acknowledged": len(acknowledged), **totals, "failures": failures}


def verify(server, acknowledged):
    """The ids whose stored body is not byte-identical to the 201's."""
    bad = []
    for check_id, body in acknowledged.items():
        status, data, _ = server.request("GET", f"/v1/checks/{check_id}")
        if status != 200 or data != body:
            bad.append((check_id, status))
    return bad


# MARK: (b) killing a layer load half-way

def part_b(args, rng, binary, base_db, tmp):
    layer = args.layer
    db = os.path.join(tmp, "load.sqlite")
    shutil.copy(base_db, db)
    log = os.path.join(tmp, "load-serve.log")
    failures = []
    before = layers_json(binary, db, ROOT)[layer]
    tables_before = layer_tables(db, layer)
    # How long one load takes, to kill inside it: a full load, whose version then is the "old" one.
    start = time.time()
    r = run([binary, "load", "--catalog", "Layers", "--db", db, "--layers", layer, "--version", "crash-baseline", "--json"], cwd=ROOT, timeout=1200)
    duration = time.time() - start
    if r.returncode != 0:
        raise RuntimeError(f"the baseline load failed: {r.stderr or r.stdout}")
    old = layers_json(binary, db, ROOT)[layer]
    if old["versionNumber"] != before["versionNumber"] + 1:
        failures.append(f"the baseline load made version {old['versionNumber']} after {before['versionNumber']}")
    tables_old = layer_tables(db, layer)
    print(f"  a full load of {layer} ({old['count']} features) takes {duration:.1f} s; version {old['versionNumber']} ({old['version']})", flush=True)
    x, y = tile_of((old["bbox"][0] + old["bbox"][2]) / 2, (old["bbox"][1] + old["bbox"][3]) / 2, 8)
    killed_loading = killed_after_commit = rounds = 0
    # Kill until --rounds kills landed inside a load (one that landed after its commit counts apart).
    while killed_loading < args.rounds and rounds < 3 * args.rounds:
        rounds += 1
        round_no = rounds
        moment = rng.uniform(0.02, 0.95) * duration
        proc = subprocess.Popen([binary, "load", "--catalog", "Layers", "--db", db, "--layers", layer, "--version", f"killed-{round_no}", "--json"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(moment)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        problems = []
        now = layers_json(binary, db, ROOT)[layer]
        if now["versionNumber"] != old["versionNumber"]:
            # The load committed before the kill (or finished): then the new version is there whole.
            if now["versionNumber"] != old["versionNumber"] + 1 or now["count"] != old["count"] or now["version"] != f"killed-{round_no}":
                problems.append(f"after a committed load the layer is version {now['versionNumber']} ({now['version']}) with {now['count']} features")
            state = "finished before the kill" if finished else "killed after its commit"
            killed_after_commit += 0 if finished else 1
            old = now
            tables_old = layer_tables(db, layer)
        else:
            state = "killed mid-load"
            killed_loading += 1
            for key in ("versionNumber", "version", "count", "loadedAt", "bbox"):
                if now.get(key) != old.get(key):
                    problems.append(f"{key} is {now.get(key)!r}, was {old.get(key)!r}")
            left = layer_tables(db, layer)
            if left != tables_old:
                problems.append(f"tables of the killed load are left: {sorted(set(left) - set(tables_old))}")
        check = integrity(db)
        if check != "ok":
            problems.append(f"integrity_check: {check[:300]}")
        server = Server(binary, db, ROOT, log)
        try:
            status, body, _ = server.request("GET", f"/collections/{layer}/items?limit=1")
            matched = json.loads(body).get("numberMatched") if status == 200 else None
            if status != 200 or matched != old["count"]:
                problems.append(f"items answered {status} with numberMatched {matched}, expected {old['count']}")
            status, body, _ = server.request("GET", f"/tiles/{layer}/8/{x}/{y}.mvt")
            if status != 200 or not body:
                problems.append(f"the tile 8/{x}/{y} answered {status} with {len(body)} bytes")
            status, body, _ = server.request("GET", f"/v1/layers/{layer}/versions")
            versions = json.loads(body) if status == 200 else []
            current = [v.get("version") for v in versions if isinstance(v, dict) and v.get("current")]
            if status != 200 or current != [old["versionNumber"]]:
                problems.append(f"/v1/layers/{layer}/versions answered {status} with current version {current}, expected {old['versionNumber']}")
        finally:
            server.stop()
        print(f"  b{round_no:02d}: load {state} at {moment:.2f} s of {duration:.1f} s; version {now['versionNumber']}, integrity {check}"
              + (f"; PROBLEMS: {problems}" if problems else ""), flush=True)
        failures += [f"b{round_no}: {p}" for p in problems]
    if killed_loading < args.rounds:
        failures.append(f"only {killed_loading} of {rounds} kills landed inside a load")
    # After all the kills, a load to the end still works and makes the next version.
    r = run([binary, "load", "--catalog", "Layers", "--db", db, "--layers", layer, "--version", "after-kills", "--json"], cwd=ROOT, timeout=1200)
    final = layers_json(binary, db, ROOT)[layer]
    if r.returncode != 0 or final["versionNumber"] != old["versionNumber"] + 1 or final["count"] != old["count"]:
        failures.append(f"the load after the kills failed or made version {final['versionNumber']}: {r.stderr[-300:]}")
    if integrity(db) != "ok":
        failures.append("integrity_check after the final load")
    return {"rounds": rounds, "killed_mid_load": killed_loading, "killed_after_commit": killed_after_commit,
            "load_seconds": round(duration, 1), "failures": failures, "tables_before": len(tables_before)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-fuzz", "debug", "onemap"))
    parser.add_argument("--rounds", type=int, default=20, help="kills per part (at least 20 for issue 10)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--threads", type=int, default=4, help="clients posting checks in part (a)")
    parser.add_argument("--max-moment", type=float, default=2.0, help="latest kill in part (a), seconds after the first 201")
    parser.add_argument("--layer", default="farmland", help="the layer whose load part (b) kills")
    parser.add_argument("--parts", default="a,b")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no binary at {binary}: build it first (swift build)")
    if shutil.which("sqlite3") is None:
        sys.exit("sqlite3 is missing: apt-get install sqlite3 (make test-deps does)")
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="onemap-crash-")
    started = time.time()
    try:
        base = os.path.join(tmp, "base.sqlite")
        print(f"crash safety: loading the sample catalog into {base}", flush=True)
        r = run([binary, "load", "--catalog", "Layers", "--db", base, "--json"], cwd=ROOT, timeout=1800)
        if r.returncode != 0:
            sys.exit(f"onemap load failed: {r.stderr or r.stdout}")
        run(["sqlite3", base, "PRAGMA wal_checkpoint(TRUNCATE);"], timeout=60)
        results = {}
        if "a" in args.parts:
            print(f"(a) SIGKILL the server while {args.threads} clients post checks, {args.rounds} times", flush=True)
            results["a"] = part_a(args, rng, binary, base, tmp)
        if "b" in args.parts:
            print(f"(b) SIGKILL `onemap load --layers {args.layer}` half-way, {args.rounds} times", flush=True)
            results["b"] = part_b(args, rng, binary, base, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    failures = [f for part in results.values() for f in part["failures"]]
    if "a" in results:
        a = results["a"]
        print(f"crash safety (a): {a['rounds']} server kills; {a['posted']} checks answered, {a['created']} acknowledged (201), "
              f"{a['failed_in_flight']} cut off by a kill; {a['acknowledged']} read back byte-identical after restarts: "
              f"{'ok' if not a['failures'] else 'FAILED'}")
    if "b" in results:
        b = results["b"]
        print(f"crash safety (b): {b['rounds']} load kills: {b['killed_mid_load']} mid-load (old version kept, no table left), "
              f"{b['killed_after_commit']} after the commit (new version whole), a full load taking {b['load_seconds']} s; "
              f"integrity ok and the layer served after each: {'ok' if not b['failures'] else 'FAILED'}")
    for f in failures:
        print("FAILURE:", f)
    print(f"crash safety: {'FAILED' if failures else 'ok'} (parts {args.parts}, seed {args.seed}, {time.time() - started:.0f} s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
