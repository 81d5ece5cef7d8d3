#!/usr/bin/env python3
"""Replicas on PostgreSQL (issue 24): two `onemap serve --db postgresql://…` follow one database.

Run inside `.ci/with-postgres` (make test does), which gives the database's URL in
$ONEMAP_TEST_POSTGRES and the commands that stop and start its cluster.

1. The sample catalog is loaded into the database (`onemap load --db URL`), and two replicas
   start on it, each with its own local copy (--cache), and a third that copies the layers from
   the cluster's hot standby (--read-db), as one in a second machine room would. All serve the farmland's 20,000 parcels
   and a check of a sample site gives the same answer on both as on a SpatiaLite server of the
   same catalog (the record's id and time aside). The command line on the database: a check
   run with `onemap check --db URL` is recorded there and listed by both replicas; `ledger` and
   `audit` print what they print on the SpatiaLite file; a key made by `onemap keys create --db
   URL` works at both, and revoked through one replica's /v1/keys it stops at the other too.
2. A new version of the farmland (half the parcels, by a catalog whose source is cut down) is
   loaded while they run: both serve it within 2 s of the load's end (--within; make test gives
   its debug build 20 s: a debug build copies 20,000 parcels several times slower than a release
   one, and on a slow shared machine three replicas copying at once took 10 s; the 2 s figure is
   measured in bench/run --only pgimport, on a release build), and say so in /v1/layers.
3. The database stops: both go on answering reads (from their copies), /health is 503 and says
   they are not following, and a check or a new key is answered 503 with Retry-After (it cannot
   be stored). It starts again, a third version is loaded: both follow again and serve it
   within 2 s of the load's end (they reconnect every second).
   Checks posted to one replica are listed and read back, byte for byte, by the other (they
   share their records through the database).
4. HAProxy with deploy/haproxy.cfg in front of both: checks posted through it are answered;
   one replica is SIGKILLed in the middle of a burst of checks: every check answered before
   the kill was a 201, and from 3 s after it (two failed health checks a second apart) every
   check is answered by the other. Checks under way on the killed replica fail (502), as
   HAProxy does not post them again; every check answered 201 is in the database.

Prints the seconds each replica took; exits 1 on any failure.
Needs: the onemap binary, ogr2ogr (to cut the source down), haproxy (Debian's), Python's
standard library.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from e2e_server import free_port, stop, wait_http, load_sample

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def health(base):
    """(status, body) of /health, which a replica answers 503 while it cannot store checks."""
    try:
        with urllib.request.urlopen(base + "/health", timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def post_json(url, body):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/geo+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.load(r)


def farmland(base):
    """(version number, label, features matched) of the farmland a server serves now."""
    layers = get_json(base + "/v1/layers")
    layers = layers["layers"] if isinstance(layers, dict) else layers
    f = next(l for l in layers if l["name"] == "farmland")
    items = get_json(base + "/collections/farmland/items?limit=1")
    return f["versionNumber"], f["version"], items["numberMatched"]


def serve(binary, db, port, work, cache=None, read_db=None):
    # No rate limit on anonymous checks: behind HAProxy every check comes from one client.
    args = [binary, "serve", "--db", db, "--port", str(port), "--open", "--open-rate", "0"]
    if cache:
        args += ["--cache", cache]
    if read_db:
        args += ["--read-db", read_db]
    log = open(os.path.join(work, f"serve-{port}.log"), "w")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    wait_http(f"http://127.0.0.1:{port}/health", seconds=120)
    return p


def load(binary, catalog, url, label):
    subprocess.run([binary, "load", "--catalog", catalog, "--layers", "farmland", "--version", label, "--db", url],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.time()


def wait_for(bases, number, count, since, limit):
    """Seconds from `since` until every server serves farmland version `number` with `count` parcels."""
    took = {}
    deadline = since + limit + 10
    while time.time() < deadline and len(took) < len(bases):
        for b in bases:
            if b in took:
                continue
            try:
                n, _, matched = farmland(b)
            except Exception:
                continue
            if n == number and matched == count:
                took[b] = time.time() - since
        time.sleep(0.02)
    return took


def half_catalog(work, url_binary_unused=None):
    """A catalog whose farmland source holds the sample's first 10,000 parcels."""
    cat = os.path.join(work, "half")
    os.makedirs(cat)
    src = os.path.join(ROOT, "sampledata", "farmland.gpkg")
    dst = os.path.join(cat, "farmland.gpkg")
    subprocess.run(["ogr2ogr", "-f", "GPKG", dst, src, "-where", "fid <= 10000"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(os.path.join(ROOT, "Layers", "farmland.yaml"), encoding="utf-8") as f:
        text = f.read()
    lines = [("source: farmland.gpkg" if l.startswith("source:") else l) for l in text.splitlines()]
    with open(os.path.join(cat, "farmland.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return cat


def shared_records(bases, site):
    """Step 1's end: a check posted to one replica is listed and read by the other."""
    body = open(site, "rb").read()
    for a, b in ((bases[0], bases[1]), (bases[1], bases[0])):
        req = urllib.request.Request(a + "/v1/checks", data=body, method="POST", headers={"Content-Type": "application/geo+json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            posted = r.read()
        cid = json.loads(posted)["id"]
        t0 = time.time()
        listed = False
        while time.time() - t0 < 5 and not listed:
            listed = any(i["id"] == cid for i in get_json(b + "/v1/checks?limit=50")["items"])
            if not listed:
                time.sleep(0.02)
        check(listed, f"a check posted to {a} is listed by {b} ({time.time() - t0:.2f} s later)")
        with urllib.request.urlopen(b + "/v1/checks/" + cid, timeout=30) as r:
            read = r.read()
        check(read == posted, f"{b} reads it back byte for byte as {a} answered it")


def request(url, method="GET", key=None):
    """(status, body) of a request with an optional bearer key."""
    req = urllib.request.Request(url, method=method, headers={"Authorization": "Bearer " + key} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def until(test, seconds):
    """Seconds until test() held, or None if it did not within `seconds`."""
    t0 = time.time()
    while time.time() - t0 < seconds:
        if test():
            return time.time() - t0
        time.sleep(0.02)
    return None


def commands_on_url(binary, url, bases, sl_db, work, site):
    """Step 1's end: the command line on the database. A check run there is recorded in the
    database and listed by both replicas; the ledger and the audit answer as on the SpatiaLite
    file; a key made there works at both replicas, and revoked through one it stops at the other."""
    cache = os.path.join(work, "cli.sqlite")

    def cli(*args, db=url):
        extra = ["--cache", cache] if db == url else []
        return subprocess.run([binary, *args, "--db", db, *extra], check=True, capture_output=True, text=True, cwd=work).stdout

    answer = json.loads(cli("check", site, "--format", "json", "--project-code", "CLI-1"))
    text = cli("check", site, "--project-code", "CLI-2")
    cid = next((w for w in text.split() if w.startswith("chk_")), None)
    check(cid is not None and in_database([cid]) == 1, f"`onemap check --db URL` stores its record {cid} in the database")
    for b in bases:
        took = until(lambda: any(i["id"] == cid for i in get_json(b + "/v1/checks?limit=50")["items"]), 5)
        check(took is not None, f"{b} lists the command line's check" + (f" ({took:.2f} s later)" if took is not None else ""))
    check(answer["verdict"] in ("forbidden", "restricted", "clear"), f"`onemap check --db URL` answers ({answer['verdict']})")
    for what in (["ledger", "--format", "csv"], ["audit", "--format", "csv"]):
        check(cli(*what) == cli(*what, db=sl_db), f"`onemap {what[0]} --db URL` prints what it prints on the SpatiaLite file")

    made = json.loads(cli("keys", "create", "--role", "admin", "--name", "运维", "--json"))
    secret = made["secret"]
    for b in bases:
        took = until(lambda: request(b + "/v1/keys", key=secret)[0] == 200, 2)
        check(took is not None, f"a key made by `onemap keys create --db URL` works at {b}"
              + (f" ({took:.2f} s later)" if took is not None else ""))
    status, _ = request(bases[0] + "/v1/keys/" + urllib.parse.quote("运维"), method="DELETE", key=secret)
    check(status == 200, f"revoking it through {bases[0]}: {status}")
    check(request(bases[0] + "/v1/keys", key=secret)[0] == 401, f"{bases[0]} refuses it on the next request")
    took = until(lambda: request(bases[1] + "/v1/keys", key=secret)[0] == 401, 2)
    check(took is not None, f"{bases[1]} refuses it within 2 s" + (f" ({took:.2f} s)" if took is not None else ""))
    check("运维" in cli("keys", "list") and "revoked" in cli("keys", "list"), "`onemap keys list --db URL` shows it revoked")
    # An admin key for what comes after (the keys while the database is down).
    admin = json.loads(cli("keys", "create", "--role", "admin", "--name", "值班", "--json"))["secret"]
    until(lambda: all(request(b + "/v1/keys", key=admin)[0] == 200 for b in bases), 2)
    return admin


def shared_access(binary, url, bases, admin, work):
    """Reads of a restricted layer at two replicas are on record in the database: a third lists
    both, and `onemap access list|verify --db URL` reads and verifies them there."""
    cat = os.path.join(work, "restricted")
    os.makedirs(cat)
    # A copy of the water sources without a rule, so the checks after this answer as before.
    src = os.path.join(ROOT, "sampledata", "water_source.geojson")
    with open(os.path.join(cat, "water_secret.yaml"), "w", encoding="utf-8") as f:
        f.write(f"name: water_secret\ntitle: 水源保护区(内部)\nkind: other\nsource: {src}\nid_field: BSM\naccess: restricted\n")
    subprocess.run([binary, "load", "--catalog", cat, "--db", url], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    items = "/collections/water_secret/items?limit=3"
    took = until(lambda: all(request(b + items, key=admin)[0] == 200 for b in bases[:2]), 20)
    check(took is not None, "both replicas serve the restricted layer loaded into the database")
    check(request(bases[0] + items)[0] in (401, 404), "an anonymous caller does not read it")
    wanted = set()
    for i, b in enumerate(bases[:2]):
        rid = f"replica-read-{i}"
        req = urllib.request.Request(b + items, headers={"Authorization": "Bearer " + admin, "X-Request-Id": rid})
        with urllib.request.urlopen(req, timeout=30) as r:
            check(r.status == 200, f"{b} answers the read {rid}")
        wanted.add(rid)

    def listed():
        status, body = request(bases[2] + "/v1/access?layer=water_secret", key=admin)
        return status == 200 and wanted <= {i.get("requestID") for i in json.loads(body)["items"]}
    took = until(listed, 5)
    check(took is not None, f"{bases[2]} lists both replicas' reads from the database"
          + (f" ({took:.2f} s later)" if took is not None else ""))
    out = subprocess.run([binary, "access", "list", "--layer", "water_secret", "--json", "--db", url],
                         capture_output=True, text=True, cwd=work)
    page = json.loads(out.stdout) if out.returncode == 0 else {"items": []}
    check(wanted <= {i.get("requestID") for i in page["items"]}, f"`onemap access list --db URL` lists them ({out.stderr.strip()})")
    out = subprocess.run([binary, "access", "verify", "--db", url], capture_output=True, text=True, cwd=work)
    check(out.returncode == 0, f"`onemap access verify --db URL` finds the chain whole: {out.stdout.strip()} {out.stderr.strip()}")


def in_database(ids):
    """How many of `ids` the database's onemap.checks holds."""
    url = os.environ["ONEMAP_TEST_POSTGRES"]
    out = subprocess.run(["psql", "-X", "-At", url, "-c",
                          "SELECT count(*) FROM onemap.checks WHERE id = ANY(string_to_array('%s', ','))" % ",".join(ids)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def failover(victim, ports, work, site):
    """Step 4: HAProxy (deploy/haproxy.cfg) in front of the replicas; one is SIGKILLed mid-burst."""
    import threading
    listen = free_port()
    env = dict(os.environ, ONEMAP_LISTEN=f"127.0.0.1:{listen}", ONEMAP_REPLICA_1=f"127.0.0.1:{ports[0]}",
               ONEMAP_REPLICA_2=f"127.0.0.1:{ports[1]}")
    log = open(os.path.join(work, "serve-haproxy.log"), "w")
    proxy = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(ROOT, "deploy", "haproxy.cfg")], env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{listen}"
        wait_http(base + "/health", seconds=30)
        body = open(site, "rb").read()
        results = []  # (time sent, time answered, status)
        acknowledged = []
        stop_at = time.time() + 8
        killed = {}

        def post_many():
            while time.time() < stop_at:
                t = time.time()
                cid = None
                try:
                    status, answer = post_json(base + "/v1/checks", body)
                    cid = answer.get("id")
                except urllib.error.HTTPError as e:
                    status = e.code
                except Exception:
                    status = 0
                results.append((t, time.time(), status))
                if status == 201:
                    acknowledged.append(cid)

        threads = [threading.Thread(target=post_many) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        killed["at"] = time.time()
        victim.kill()
        for t in threads:
            t.join()
        # A check under way on the killed replica fails (502): HAProxy does not send a POST it
        # delivered to another replica, since a check posted twice would be recorded twice.
        before = [s for t, done, s in results if done < killed["at"]]
        after = [s for t, done, s in results if t >= killed["at"] + 3]
        from collections import Counter
        check(before and all(s == 201 for s in before),
              f"through HAProxy, {len(before)} checks before the kill all 201 ({dict(Counter(before))})")
        check(after and all(s == 201 for s in after),
              f"from 3 s after one replica's SIGKILL, {len(after)} checks through HAProxy all 201 {dict(Counter(after))} "
              f"(in between: {sum(1 for t, done, s in results if done >= killed['at'] and t < killed['at'] + 3 and s != 201)} not)")
        stored = in_database(acknowledged)
        check(stored == len(acknowledged), f"every check answered 201 ({len(acknowledged)}) is in the database ({stored})")
    finally:
        stop(proxy)
        log.close()
        if FAILURES:
            bad = [l for l in open(os.path.join(work, "serve-haproxy.log")) if " 502 " in l or " 503 " in l]
            print("haproxy's failed requests:\n" + "".join(bad[:10]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "onemap"))
    ap.add_argument("--within", type=float, default=2.0,
                    help="seconds a replica may take to serve a new version (2: issue 24's figure, for a release build)")
    a = ap.parse_args()
    url = os.environ.get("ONEMAP_TEST_POSTGRES")
    if not url:
        sys.exit("ONEMAP_TEST_POSTGRES is not set: run this inside .ci/with-postgres (make test does)")
    binary = os.path.abspath(a.binary)
    work = tempfile.mkdtemp(prefix="onemap-replica-")
    servers = []
    try:
        subprocess.run([binary, "load", "--catalog", os.path.join(ROOT, "Layers"), "--db", url],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ports = [free_port(), free_port()]
        servers = [serve(binary, url, p, work, cache=os.path.join(work, f"replica-{p}.sqlite")) for p in ports]
        # A third in "the second machine room": it copies the layers from the hot standby.
        ports.append(free_port())
        servers.append(serve(binary, url, ports[2], work, cache=os.path.join(work, "replica-standby.sqlite"),
                             read_db=os.environ["ONEMAP_TEST_POSTGRES_STANDBY"]))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        # A SpatiaLite server of the same catalog, for the answers.
        sl_port = free_port()
        sl_db = load_sample(binary, work, ROOT)
        servers.append(serve(binary, sl_db, sl_port, work))
        sl = f"http://127.0.0.1:{sl_port}"

        for b in bases:
            check(farmland(b)[0::2] == (1, 20000), f"{b} serves the farmland's version 1, 20,000 parcels")
        site_path = os.path.join(ROOT, "sampledata", "projects")
        sites = sorted(f for f in os.listdir(site_path) if f.endswith(".geojson"))
        for name in sites[:4]:
            body = open(os.path.join(site_path, name), "rb").read()
            answers = []
            for b in bases + [sl]:
                status, answer = post_json(b + "/v1/checks", body)
                for k in ("id", "createdAt", "links"):
                    answer.pop(k, None)
                if b == sl:
                    # Its versions were loaded at other times, so their default labels differ.
                    labels = {l["layer"]: l["versionLabel"] for l in json.loads(answers[0][1])["layers"]}
                    for l in answer["layers"]:
                        l["versionLabel"] = labels.get(l["layer"], l["versionLabel"])
                    if "landUse" in answer:
                        answer["landUse"]["versionLabel"] = json.loads(answers[0][1])["landUse"]["versionLabel"]
                answers.append((status, json.dumps(answer, sort_keys=True)))
            same = all(x == answers[0] for x in answers)
            if not same:
                import difflib
                for i in range(1, len(answers)):
                    if answers[i] != answers[0]:
                        a0 = json.dumps(json.loads(answers[0][1]), indent=1, sort_keys=True).splitlines()
                        ai = json.dumps(json.loads(answers[i][1]), indent=1, sort_keys=True).splitlines()
                        print("\n".join(list(difflib.unified_diff(a0, ai, lineterm=""))[:40]))
            check(same, f"{name}: the replicas answer as the SpatiaLite server")
        shared_records(bases, os.path.join(site_path, sites[1]))
        admin = commands_on_url(binary, url, bases, sl_db, work, os.path.join(site_path, sites[1]))
        shared_access(binary, url, bases, admin, work)

        half = half_catalog(work)
        since = load(binary, half, url, "half")
        took = wait_for(bases, 2, 10000, since, a.within)
        check(len(took) == len(bases) and max(took.values()) <= a.within,
              f"a new version is served by all three replicas (one reading the standby) within {a.within:g} s: " + ", ".join(f"{t:.2f} s" for t in took.values()))

        subprocess.run(shlex.split(os.environ["ONEMAP_TEST_POSTGRES_STOP"]), check=True, stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        for b in bases:
            status, h = health(b)
            check(status == 503 and h.get("following", "").startswith("no:"),
                  f"{b}/health is {status} and says it is not following: {h.get('following')}")
            check(farmland(b)[0::2] == (2, 10000), f"{b} answers from its copy while the database is down")
            req = urllib.request.Request(b + "/v1/keys", data=b'{"role": "viewer"}', method="POST",
                                         headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=30)
                check(False, f"{b} made a key it could not store in the database")
            except urllib.error.HTTPError as e:
                check(e.code == 503 and e.headers.get("Retry-After") == "5",
                      f"{b} answers a key it cannot store with {e.code}, Retry-After {e.headers.get('Retry-After')}")
            try:
                post_json(b + "/v1/checks", open(os.path.join(site_path, sites[0]), "rb").read())
                check(False, f"{b} acknowledged a check it could not store in the database")
            except urllib.error.HTTPError as e:
                check(e.code == 503 and e.headers.get("Retry-After") == "5",
                      f"{b} answers a check it cannot store with {e.code}, Retry-After {e.headers.get('Retry-After')}")
        subprocess.run(shlex.split(os.environ["ONEMAP_TEST_POSTGRES_START"]), check=True, stdout=subprocess.DEVNULL)
        since = load(binary, os.path.join(ROOT, "Layers"), url, "again")
        took = wait_for(bases, 3, 20000, since, a.within)
        check(len(took) == len(bases) and max(took.values()) <= a.within,
              f"after the database came back, a new version is served within {a.within:g} s: "
              + ", ".join(f"{t:.2f} s" for t in took.values()))
        for b in bases:
            status, h = health(b)
            check(status == 200 and h.get("following") == "yes", f"{b}/health is 200 and says it follows again")
        failover(servers[0], ports, work, os.path.join(site_path, sites[0]))
    finally:
        for p in servers:
            stop(p)
        if FAILURES:
            for f in os.listdir(work):
                if f.startswith("serve-"):
                    lines = open(os.path.join(work, f)).read().splitlines()
                    odd = [l for l in lines if "status=2" not in l and "status=4" not in l and " 201 " not in l and " 200 " not in l]
                    print(f"--- {f}: {len(lines)} lines; not a 2xx or 4xx answer:\n" + "\n".join(odd[-30:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failures")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
