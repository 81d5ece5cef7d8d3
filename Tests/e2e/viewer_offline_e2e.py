#!/usr/bin/env python3
"""The one-map page with no server (issue 26's offline mode), in headless Chromium.

`onemap tiles export` writes the one-map composite as PMTiles (it carries the one-map style),
`onemap tiles viewer` writes the page into a folder, and no `onemap serve` runs at all. Then:
- as on a tablet: the page opened from disk (file://), the archive picked in its file input;
  the map draws the archive's layers with the one-map style, the layer list comes from the
  archive, and the screenshot shows a map;
- the page's PMTiles reader (pmtiles.js) gives, for tiles drawn at random from it and from a
  second archive whose directory is split into leaves, the bytes PyPI's `pmtiles` reader gives;
- as on a static server or CDN: `index.html?archive=…` over a server that answers range
  requests (and reads the archive by ranges, never whole);
- a file that is not PMTiles is refused on the page, saying so; no console errors otherwise.

Usage: python3 Tests/e2e/viewer_offline_e2e.py [--binary .build/debug/onemap] [--screenshot out.png]
"""
import argparse
import base64
import gzip
import http.server
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_server import Checks, free_port, load_sample, stop  # noqa: E402
from viewer_e2e import map_screenshot, start_chromium  # noqa: E402

from pmtiles.reader import MmapSource, Reader, all_tiles  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static server that answers `Range: bytes=a-b` (Python's own does not), as nginx and
    CDNs do; it counts what it was asked for."""
    ranges = 0
    whole_archives = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.translate_path(self.path)
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if not m or not os.path.isfile(path):
            if path.endswith(".pmtiles"):
                RangeHandler.whole_archives += 1
            return super().do_GET()
        RangeHandler.ranges += 1
        size = os.path.getsize(path)
        start, end = int(m.group(1)), min(int(m.group(2)), size - 1)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def pmtiles_reference(path):
    """Every tile of the archive by (z, x, y), as MVT, and whether it has leaf directories."""
    with open(path, "rb") as f:
        source = MmapSource(f)
        header = Reader(source).header()
        tiles = {k: gzip.decompress(v) for k, v in all_tiles(source)}
    return tiles, header["leaf_directory_length"] > 0


def page_tiles(b, keys):
    """The tiles the page's reader gives for `keys`, base64 (or None)."""
    js = ",".join(f"[{z},{x},{y}]" for z, x, y in keys)
    return b.evaluate(f"""(async () => {{
        const out = [];
        for (const [z, x, y] of [{js}]) {{
            const t = await window.onemapArchive.tile(z, x, y);
            let s = ''; if (t) for (const c of t) s += String.fromCharCode(c);
            out.push(t ? btoa(s) : null);
        }}
        return out; }})()""")


def open_in_page(b, path):
    document = b.send("DOM.getDocument")["root"]["nodeId"]
    node = b.send("DOM.querySelector", nodeId=document, selector="#archive")["nodeId"]
    b.evaluate("window.onemapArchive = null; true")
    b.send("DOM.setFileInputFiles", files=[path], nodeId=node)


def map_idle(b, seconds=90):
    b.evaluate("""window.onemapIdle = false;
        window.onemapMap.once('idle', () => { window.onemapIdle = true; }); window.onemapMap.triggerRepaint(); true""")
    return b.wait_for("window.onemapIdle === true", seconds)


def rendered(b):
    return b.evaluate("[...new Set(window.onemapMap.queryRenderedFeatures().map(f => f.sourceLayer).filter(Boolean))].sort()") or []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    parser.add_argument("--screenshot", default=os.path.join(tempfile.gettempdir(), "onemap-offline.png"))
    args = parser.parse_args()
    check = Checks()
    work = tempfile.mkdtemp(prefix="onemap-offline-")
    chrome = httpd = None
    try:
        db = load_sample(args.binary, work, ROOT)
        site = os.path.join(work, "site")
        made = subprocess.run([args.binary, "tiles", "viewer", "--out", site], capture_output=True, text=True)
        check("`onemap tiles viewer` writes the page", made.returncode == 0 and os.path.isfile(os.path.join(site, "index.html")),
              (made.stdout + made.stderr).strip())
        archive = os.path.join(site, "lishui.pmtiles")
        out = subprocess.run([args.binary, "tiles", "export", "--db", db, "--out", archive, "--maxzoom", "13"],
                             capture_output=True, text=True)
        check("the one-map composite exports", out.returncode == 0, out.stderr.strip()[-300:])
        tiles, _ = pmtiles_reference(archive)
        with open(archive, "rb") as f:
            metadata = Reader(MmapSource(f)).metadata()
        style = metadata.get("onemap:style") or {}
        check("the archive carries the one-map style", any(l.get("id") == "farmland-fill" for l in style.get("layers", [])),
              f"{len(style.get('layers', []))} style layers")
        # Leaf directories: the land use at z17–z19 over a box (as archives_e2e.py does).
        deep = os.path.join(work, "deep.pmtiles")
        out = subprocess.run([args.binary, "tiles", "export", "--db", db, "--out", deep, "--layers", "landuse",
                              "--minzoom", "17", "--maxzoom", "19", "--bbox", "119.85,28.40,119.95,28.48"],
                             capture_output=True, text=True)
        deep_tiles, has_leaves = pmtiles_reference(deep)
        check("a second archive has leaf directories", out.returncode == 0 and has_leaves,
              f"{len(deep_tiles)} tiles {out.stderr.strip()[-200:]}")
        bad = os.path.join(work, "not-an-archive.pmtiles")
        with open(bad, "wb") as f:
            f.write(b"{\"type\": \"FeatureCollection\"}" + b" " * 200)

        # No `onemap serve` runs: the page is a file, the archive a file picked by hand.
        chrome, b = start_chromium(work)
        b.send("Page.navigate", url="file://" + os.path.join(site, "index.html"))
        check("the page opened from disk is ready", b.wait_for("window.onemapReady === true", 60))
        hidden = b.evaluate("document.getElementById('signin').hidden && document.getElementById('check').hidden")
        check("with no server, sign-in and checks are hidden", hidden is True)
        open_in_page(b, archive)
        opened = b.wait_for("!!window.onemapArchive", 30)
        idle = opened and map_idle(b)
        layers = rendered(b)
        check("the map draws the archive's layers", idle and "farmland" in layers and "admin" in layers, ", ".join(layers))
        style_layers = b.evaluate("window.onemapMap.getStyle().layers.map(l => l.id)") or []
        check("drawn with the one-map style it carries", "farmland-fill" in style_layers, f"{len(style_layers)} style layers")
        listed = b.evaluate("[...document.querySelectorAll('#layers label')].map(l => l.textContent)") or []
        check("the layer list comes from the archive", "永久基本农田" in listed and len(listed) >= 6, ", ".join(listed))
        status = b.evaluate("document.getElementById('archive-status').textContent") or ""
        check("the page names the archive and its versions", "lishui.pmtiles" in status and "farmland v" in status, status)

        colours = map_screenshot(b, args.screenshot)
        check("the screenshot shows a map", colours > 20, f"{colours} distinct colours; saved {args.screenshot}")

        # The page's reader against PyPI's, tile for tile.
        rng = random.Random(26)
        keys = rng.sample(sorted(tiles), min(150, len(tiles))) + [(3, 6, 3), (13, 0, 0)]
        got = page_tiles(b, keys)
        wrong = [k for k, g in zip(keys, got) if (base64.b64decode(g) if g else None) != tiles.get(k)]
        check("the page reads the tiles PyPI's reader reads", got is not None and not wrong,
              f"{len(keys)} keys ({len(keys) - 2} with tiles, 2 without); differing: {wrong[:5]}")
        open_in_page(b, deep)
        b.wait_for("!!window.onemapArchive && window.onemapArchive.name === 'deep.pmtiles'", 30)
        deep_keys = rng.sample(sorted(deep_tiles), min(300, len(deep_tiles)))
        got = page_tiles(b, deep_keys)
        wrong = [k for k, g in zip(deep_keys, got) if (base64.b64decode(g) if g else None) != deep_tiles[k]]
        check("and tiles found through its leaf directories", got is not None and not wrong,
              f"{len(deep_keys)} of its {len(deep_tiles)} tiles; differing: {wrong[:5]}")

        open_in_page(b, bad)
        refused = b.wait_for("document.getElementById('archive-status').className === 'error'", 20)
        status = b.evaluate("document.getElementById('archive-status').textContent") or ""
        check("a file that is not PMTiles is refused, saying so", refused and "not a PMTiles archive" in status, status)

        # A static server that answers range requests, as a CDN does.
        handler = lambda *a, **k: RangeHandler(*a, directory=site, **k)  # noqa: E731
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html?archive=lishui.pmtiles"
        b.errors.clear()
        b.send("Page.navigate", url=url)
        ready = b.wait_for("window.onemapReady === true && !!window.onemapArchive", 60) and map_idle(b)
        layers = rendered(b)
        check("from a static server by ?archive=, the map draws", ready and "farmland" in layers, ", ".join(layers))
        check("the archive is read by ranges, never whole", RangeHandler.ranges > 3 and RangeHandler.whole_archives == 0,
              f"{RangeHandler.ranges} range requests, {RangeHandler.whole_archives} whole")
        b.send("Runtime.evaluate", expression="1")
        errors = [e for e in b.errors if "not-an-archive" not in e]
        check("no console errors", not errors, "; ".join(errors[:5]))
    except Exception as e:  # a crash of the harness is a failure, said plainly
        check("e2e harness", False, repr(e))
    finally:
        if httpd:
            httpd.shutdown()
        stop(chrome)
        shutil.rmtree(work, ignore_errors=True)
    check.finish("offline viewer e2e")


if __name__ == "__main__":
    main()
