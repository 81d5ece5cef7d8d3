#!/usr/bin/env python3
"""The viewer's assets wherever `onemap serve` is started from: every server here runs in an
empty working directory, so nothing can be found by accident relative to it.

- installed: the binary in PREFIX/bin with MapLibre and the styles in PREFIX/share/onemap
  (the layout `make install` writes) finds them, and the page draws the map;
- built: the .build binary finds the checkout's vendor/ and Styles/;
- --assets: an installed binary with nothing beside it, pointed at the checkout, finds them;
- missing: an installed binary with nothing beside it logs one line at start naming the
  places it looked and the fixes, answers maplibre-gl.js with that problem, and the page
  shows that message instead of failing with "maplibregl is not defined".

Usage: python3 Tests/e2e/viewer_assets_e2e.py [--binary .build/debug/onemap]
Needs: chromium and websocket-client, as viewer_e2e.py.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from e2e_server import free_port, load_sample, stop, wait_http
from viewer_e2e import start_chromium

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MISSING_LINE = "warning: the viewer will not draw maps"


def get(url):
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


class Server:
    """`binary serve` run from `cwd` with `extra` options; its stderr kept for the start line."""

    def __init__(self, binary, db, cwd, extra=()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = os.path.join(cwd, "stderr.log")
        self.stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen([binary, "serve", "--db", db, "--open", "--port", str(self.port), *extra],
                                        cwd=cwd, stdout=subprocess.DEVNULL, stderr=self.stderr)
        wait_http(self.base + "/health")

    def log(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        stop(self.process)
        self.stderr.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)

    work = tempfile.mkdtemp(prefix="onemap-assets-e2e-")
    db = load_sample(binary, work, ROOT)
    # An installed tree (as `make install PREFIX=…` lays it out), and a bare binary with nothing beside it.
    installed, bare = os.path.join(work, "prefix"), os.path.join(work, "bare")
    for prefix in (installed, bare):
        os.makedirs(os.path.join(prefix, "bin"))
        shutil.copy2(binary, os.path.join(prefix, "bin", "onemap"))
    shutil.copytree(os.path.join(ROOT, "vendor", "maplibre"), os.path.join(installed, "share", "onemap", "maplibre"))
    shutil.copytree(os.path.join(ROOT, "Styles"), os.path.join(installed, "share", "onemap", "styles"))

    passed, failed = [], []

    def check(name, ok, detail=""):
        (passed if ok else failed).append(name)
        print(("ok   " if ok else "FAIL ") + name + (f" — {detail}" if detail else ""), flush=True)

    def elsewhere(name):
        d = os.path.join(work, "cwd-" + name)
        os.makedirs(d)
        return d

    def serves_assets(label, server):
        status, ctype, body = get(server.base + "/static/maplibre/maplibre-gl.js")
        check(f"{label}: maplibre-gl.js is served", status == 200 and "javascript" in ctype and len(body) > 100_000,
              f"{status} {ctype}, {len(body)} bytes")
        status, _, _ = get(server.base + "/styles/onemap.json")
        check(f"{label}: the style is served", status == 200, f"{status}")
        check(f"{label}: no warning at start", MISSING_LINE not in server.log(), server.log().strip()[:300])

    servers, chrome = [], None
    try:
        installed_server = Server(os.path.join(installed, "bin", "onemap"), db, elsewhere("installed"))
        servers.append(installed_server)
        serves_assets("installed", installed_server)

        built = Server(binary, db, elsewhere("built"))
        servers.append(built)
        serves_assets("built", built)

        pointed = Server(os.path.join(bare, "bin", "onemap"), db, elsewhere("pointed"), ["--assets", ROOT])
        servers.append(pointed)
        serves_assets("--assets", pointed)

        missing = Server(os.path.join(bare, "bin", "onemap"), db, elsewhere("missing"))
        servers.append(missing)
        time.sleep(0.5)
        lines = [l for l in missing.log().splitlines() if MISSING_LINE in l]
        line = lines[0] if lines else ""
        check("missing: one line at start", len(lines) == 1, line[:400])
        check("missing: the line names where it looked and the fixes",
              os.path.join(bare, "share", "onemap") in line and "make vendor" in line and "--assets" in line, line[:400])
        status, ctype, body = get(missing.base + "/static/maplibre/maplibre-gl.js")
        problem = json.loads(body) if ctype.startswith("application/problem+json") else {}
        check("missing: maplibre-gl.js is a 503 problem with that message",
              status == 503 and problem.get("status") == 503 and "make vendor" in problem.get("detail", ""), f"{status} {ctype}")

        chrome, b = start_chromium(work)

        b.send("Page.navigate", url=missing.base + "/viewer")
        shown = b.wait_for("(document.querySelector('#result .error') || {}).textContent?.includes('make vendor')", 30)
        text = b.evaluate("(document.querySelector('#result .error') || {}).textContent || ''") or ""
        check("missing: the page shows the message", shown, text[:300])
        b.evaluate("1")  # drains the events the page sent
        undefined = [e for e in b.errors if "maplibregl is not defined" in e]
        check("missing: no 'maplibregl is not defined'", not undefined, "; ".join(undefined)[:300])

        b.errors.clear()
        b.send("Page.navigate", url=installed_server.base + "/viewer")
        drawn = b.wait_for("window.onemapReady === true", 90)
        check("installed: the page draws the map", drawn, "; ".join(b.errors)[:300])
    finally:
        for s in servers:
            s.stop()
        stop(chrome)
        shutil.rmtree(work, ignore_errors=True)
    print(f"viewer assets e2e: {len(passed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
