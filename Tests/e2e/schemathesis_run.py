#!/usr/bin/env python3
"""Fuzzing the HTTP API from its OpenAPI document (issue 10) with Schemathesis.

Loads the sample catalog into a temporary database, starts `onemap serve --open` on it, and runs
`schemathesis run http://127.0.0.1:PORT/api` with every check (no 5xx, status codes, content
types, headers and bodies conforming to the document, negative data rejected, ...) until at least
--min-requests requests have been generated and sent. Counts the requests from Schemathesis's
NDJSON event stream, and also watches the server: it must still be running and answering
/health at the end (0 crashes).

Prints the figures and exits 1 when Schemathesis found a failure, too few requests were made, or
the server died.

Usage: python3 Tests/e2e/schemathesis_run.py [--binary .build-fuzz/debug/onemap] [--min-requests 5000]
       [--max-examples 60] [--seed 10] [--db existing.sqlite]
Needs: schemathesis (PyPI; make test-deps installs it).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from e2e_server import free_port, wait_http

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def count_requests(ndjson_path):
    """Requests sent and their statuses, from the NDJSON events (each check names its interaction)."""
    statuses = collections.Counter()
    operations = set()
    failures = []
    with open(ndjson_path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for kind, payload in event.items():
                if kind != "ScenarioFinished" or not isinstance(payload, dict):
                    continue
                recorder = payload.get("recorder", {})
                for interaction in (recorder.get("interactions") or {}).values():
                    response = interaction.get("response") or {}
                    statuses[response.get("status_code", "none")] += 1
                label = recorder.get("label")
                if label:
                    operations.add(label)
                for check_list in (recorder.get("checks") or {}).values():
                    for check in check_list:
                        if str(check.get("status")).lower() == "failure":
                            failure = (check.get("failure_info") or {}).get("failure", {})
                            failures.append(f"{check.get('name')}: {failure.get('operation', label)}: {failure.get('title', '')}: {str(failure.get('message', ''))[:200]}")
    return statuses, operations, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-fuzz", "debug", "onemap"))
    parser.add_argument("--min-requests", type=int, default=5000, help="fail if fewer requests were sent")
    parser.add_argument("--max-examples", type=int, default=120, help="schemathesis --max-examples (per operation and phase)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="more than 1 trips a thread race in Hypothesis on Python 3.11 (SystemError in ast.parse)")
    parser.add_argument("--db", help="an already loaded database (copied); default: load the sample catalog")
    parser.add_argument("--role", choices=["anonymous", "viewer", "planner", "approver", "admin"], default="anonymous",
                        help="send every request with a key of this role (made with `onemap keys create`), so the "
                             "routes behind auth (keys, reload, restricted layers) are fuzzed past the 401")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (reports, server log)")
    parser.add_argument("--baseline", default=os.path.join(ROOT, "Tests", "e2e", "schemathesis_baseline.json"),
                        help="the known failures (open bugs) that do not fail the run")
    parser.add_argument("--update-baseline", action="store_true", help="record this run's failures in the baseline")
    parser.add_argument("schemathesis_args", nargs="*", help="more arguments for `schemathesis run` (after --)")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no binary at {binary}: build it first (swift build)")
    st = shutil.which("schemathesis") or shutil.which("st")
    if st is None:
        sys.exit("schemathesis is missing: python3 -m pip install schemathesis (make test-deps does)")
    tmp = tempfile.mkdtemp(prefix="onemap-schemathesis-")
    db = os.path.join(tmp, "api.sqlite")
    started = time.time()
    server = None
    ok = True
    try:
        if args.db:
            shutil.copy(args.db, db)
        else:
            r = subprocess.run([binary, "load", "--catalog", "Layers", "--db", db, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                sys.exit(f"onemap load failed: {r.stderr or r.stdout}")
        auth = []
        if args.role != "anonymous":
            r = subprocess.run([binary, "keys", "create", "--role", args.role, "--name", "schemathesis", "--db", db],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
            if r.returncode != 0 or not r.stdout.strip().startswith("om_"):
                sys.exit(f"onemap keys create failed: {r.stderr or r.stdout}")
            auth = ["--header", "Authorization: Bearer " + r.stdout.strip()]
        port = free_port()
        log = open(os.path.join(tmp, "server.log"), "wb")
        # --open-rate 0: the run posts far more checks than a client may per minute.
        server = subprocess.Popen([binary, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port), "--open", "--open-rate", "0"],
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health")
        ndjson = os.path.join(tmp, "events.ndjson")
        junit = os.path.join(tmp, "junit.xml")
        # Every check but one, which judges the server by a rule beyond its document:
        # positive_data_acceptance wants 2xx for every schema-valid request, but a static document
        # cannot say which layer names exist, that a ring must close, or that a layer has an
        # earlier version to compare with: those are refused with 400/422, as they should be.
        # (unsupported_method runs: a documented path asked with another method answers 405.)
        cmd = [st, "run", base + "/api", "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", str(args.max_examples), "--seed", str(args.seed),
               "--workers", str(args.workers), "--generation-database", "none", "--request-timeout", "60",
               "--report", "ndjson,junit", "--report-ndjson-path", ndjson, "--report-junit-path", junit,
               "--no-color", "--suppress-health-check", "too_slow", "--continue-on-failure"] + auth + args.schemathesis_args
        # Known open server bugs that Schemathesis finds may be accepted by name in a baseline file
        # (--update-baseline writes it) so that any other failure still fails the run. There is
        # none now: the two it held (an empty layers= on the ledger, pairs= on the audit) are fixed.
        if os.path.exists(args.baseline):
            cmd += ["--baseline", args.baseline] + (["--baseline-update"] if args.update_baseline else [])
        elif args.update_baseline:
            cmd += ["--baseline", args.baseline, "--baseline-update"]
        print("schemathesis:", " ".join("Authorization: Bearer om_…" if c.startswith("Authorization:") else c for c in cmd), flush=True)
        env = dict(os.environ, SCHEMATHESIS_TELEMETRY="false")
        run = subprocess.run(cmd, cwd=tmp, env=env, timeout=3600)
        statuses, operations, failures = count_requests(ndjson)
        requests = sum(statuses.values())
        server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
        alive = server.poll() is None
        try:
            health = wait_http(base + "/health", 10)[0] if alive else None
        except RuntimeError:
            health = None
        print(f"schemathesis ({args.role}): {requests} requests to {len(operations)} operations; statuses {dict(sorted(statuses.items(), key=str))}")
        print(f"schemathesis: {server_errors} server errors (5xx), {len(failures)} failed checks "
              f"({'all known, in the baseline' if run.returncode == 0 else 'NEW'}), exit {run.returncode}; "
              f"server {'alive and answering /health' if health == 200 else 'DEAD or not answering'}; {time.time() - started:.0f} s")
        # Schemathesis exits 0 when every failure it found is in the baseline (a known open bug).
        for f in sorted(set(failures))[:40]:
            print("  KNOWN (baseline)" if run.returncode == 0 else "  FAILURE", f.replace("\n", " "))
        if run.returncode != 0 or server_errors or health != 200:
            ok = False
        if requests < args.min_requests:
            print(f"schemathesis: only {requests} requests, fewer than {args.min_requests}")
            ok = False
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep or not ok:
            print(f"schemathesis: reports and the server log are in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"schemathesis: {'ok' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
