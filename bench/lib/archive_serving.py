"""Issue 26's serving row: warm tiles from an archive through `onemap serve --tiles`, against
Debian's nginx serving the same tiles as static files from disk (the practical limit for warm
tiles on this machine), under the same wrk load, alternating.

The tiles are every tile of OneMap's own MBTiles export (z10 and up, where a map spends its
requests), written out as files z/x/y.mvt holding the stored gzip bytes; nginx sends them with
`Content-Encoding: gzip` (sendfile, open_file_cache, one worker a core), OneMap serves the
PMTiles export of the same tiles with no database. Both are asked the same paths with
`Accept-Encoding: gzip`, as MapLibre asks, and neither writes a line per request (nginx's
`access_log off`, OneMap's `LOG_LEVEL=warning`).

Usage: archive_serving.py --mbtiles A.mbtiles --pmtiles A.pmtiles --onemap BIN --work DIR
           --port P --nginx-port Q --seconds S --runs N --wrk-script wrk_mix.lua --out RESULT.json
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request


def extract(mbtiles, root, min_zoom):
    """Every tile at min_zoom or deeper as root/tiles/farmland/z/x/y.mvt; returns the paths."""
    paths = []
    con = sqlite3.connect(mbtiles)
    for z, x, row, data in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles WHERE zoom_level >= ?",
                                       (min_zoom,)):
        y = (1 << z) - 1 - row
        path = f"/tiles/farmland/{z}/{x}/{y}.mvt"
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "wb") as f:
            f.write(data)
        paths.append(path)
    con.close()
    return paths


def wait(url, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    raise SystemExit(f"{url}: no answer in {seconds} s")


def wrk(script, requests, url, seconds, log):
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", script, url, "--", requests, "gzip"],
                         capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(out.stdout + out.stderr)
    m = re.search(r"WRK_JSON (\{.*\})", out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"wrk against {url} failed: {out.stderr[-400:]}")
    return json.loads(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    for name in ("--mbtiles", "--pmtiles", "--onemap", "--work", "--wrk-script", "--out"):
        ap.add_argument(name, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--nginx-port", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--min-zoom", type=int, default=10)
    a = ap.parse_args()

    static = os.path.join(a.work, "archive_static")
    shutil.rmtree(static, ignore_errors=True)
    paths = extract(a.mbtiles, static, a.min_zoom)
    requests = os.path.join(a.work, "archive_paths.tsv")
    with open(requests, "w") as f:
        for p in paths:
            f.write(f"GET\t{p}\n")

    nginx_dir = os.path.join(a.work, "nginx")
    os.makedirs(os.path.join(nginx_dir, "logs"), exist_ok=True)
    conf = os.path.join(nginx_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes auto;
daemon off;
pid {nginx_dir}/nginx.pid;
error_log {nginx_dir}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=100000 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path {nginx_dir}/body;
    proxy_temp_path {nginx_dir}/proxy;
    fastcgi_temp_path {nginx_dir}/fastcgi;
    uwsgi_temp_path {nginx_dir}/uwsgi;
    scgi_temp_path {nginx_dir}/scgi;
    server {{
        listen 127.0.0.1:{a.nginx_port};
        root {static};
        location /tiles/ {{
            types {{ }}
            default_type application/vnd.mapbox-vector-tile;
            add_header Content-Encoding gzip;
            add_header Access-Control-Allow-Origin *;
        }}
    }}
}}
""")
    bare = os.path.join(a.work, "archive_bare")
    os.makedirs(bare, exist_ok=True)
    log = os.path.join(a.work, "archive_serving_wrk.txt")
    open(log, "w").close()
    results = {"tiles": len(paths), "min_zoom": a.min_zoom, "seconds": a.seconds, "onemap": [], "nginx": []}

    def run(engine):
        if engine == "nginx":
            proc = subprocess.Popen(["nginx", "-c", conf, "-p", nginx_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{a.nginx_port}"
        else:
            # No line per request, as nginx has `access_log off`: both serve tiles, neither logs them.
            proc = subprocess.Popen([a.onemap, "serve", "--tiles", a.pmtiles, "--port", str(a.port)], cwd=bare,
                                    env={**os.environ, "ONEMAP_DB": "", "LOG_LEVEL": "warning"},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{a.port}"
        try:
            wait(url + paths[0], proc)
            results[engine].append(wrk(a.wrk_script, requests, url, a.seconds, log))
        finally:
            proc.send_signal(signal.SIGTERM if engine == "onemap" else signal.SIGQUIT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    for i in range(a.runs):
        for engine in (("onemap", "nginx") if i % 2 == 0 else ("nginx", "onemap")):
            run(engine)
            w = results[engine][-1]
            print(f"  run {i + 1}: {engine} {w['requests'] / (w['duration_us'] / 1e6):.0f} req/s", file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
