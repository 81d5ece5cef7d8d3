#!/usr/bin/env python3
"""Screenshots of the one-map viewer as a user sees it, for the README (e.g. sampledata/landuse.png).

Usage, with `onemap serve` running:
    python3 sampledata/viewer_shot.py http://127.0.0.1:8080 out.png --view 13/28.447/119.925 [--only landuse,admin]

It waits until the map is idle with every tile drawn, then captures the window; `--only` leaves
only those layers ticked in the layer list. Browser errors are printed and fail the run.
"""
import argparse
import base64
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "e2e"))
from viewer_e2e import start_chromium  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("out")
    parser.add_argument("--view", required=True, help="zoom/lat/lon")
    parser.add_argument("--only", help="layers to leave ticked, comma-separated")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="onemap-shot-")
    chrome, b = start_chromium(work)
    try:
        b.send("Page.navigate", url=f"{args.base}/viewer#{args.view}")
        idle = "window.onemapReady === true && window.onemapMap.loaded() && window.onemapMap.areTilesLoaded()"
        if not b.wait_for(idle, 120):
            sys.exit("the map did not become idle in 120 s")
        if args.only:
            keep = set(args.only.split(","))
            b.evaluate(
                "[...document.querySelectorAll('#layers input[type=checkbox]')]"
                f".filter(x => !{sorted(keep)!r}.includes(x.id.slice(6)) && x.checked).forEach(x => x.click())")
            b.evaluate("new Promise(r => window.onemapMap.once('idle', () => r(true)))")
        open(args.out, "wb").write(base64.b64decode(b.send("Page.captureScreenshot", format="png")["data"]))
        if b.errors:
            sys.exit("browser errors:\n" + "\n".join(b.errors))
    finally:
        chrome.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
