#!/usr/bin/env python3
"""End-to-end test of signing in on the one-map page (headless Chromium): a server that is not
--open, with the water-source layer restricted. Anonymous, the page shows public layers only;
with a planner's key pasted in, it says who is signed in, lists and draws the restricted layer,
checks a site (which needs the planner role), and never puts the key in the address; signed out,
the restricted layer is gone again; a wrong key is refused with the server's reason. Afterwards
the reads of the restricted layer are on record (`onemap access list`), stored at the stop.

Usage: python3 Tests/e2e/viewer_signin_e2e.py [--binary .build/debug/onemap] [--screenshot signed-in.png]
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from e2e_server import Checks, free_port, stop, wait_http
from viewer_e2e import ROOT, start_chromium

LAYER_LIST = "[...document.querySelectorAll('#layers li')].map(li => li.textContent).join('|')"
RENDERED = "[...new Set(window.onemapMap.queryRenderedFeatures().map(f => f.sourceLayer).filter(Boolean))].join(',')"
READY = "window.onemapReady === true && window.onemapMap.loaded() && window.onemapMap.areTilesLoaded() && !document.querySelector('#layers li.muted')"


def restricted_catalog(work):
    """The sample catalog with absolute sources, its water-source layer restricted."""
    catalog = os.path.join(work, "Layers")
    os.makedirs(catalog)
    for name in os.listdir(os.path.join(ROOT, "Layers")):
        with open(os.path.join(ROOT, "Layers", name), encoding="utf-8") as f:
            text = f.read().replace("../sampledata/", os.path.join(ROOT, "sampledata") + "/")
        if name == "water_source.yaml":
            text += "access: restricted\n"
        with open(os.path.join(catalog, name), "w", encoding="utf-8") as f:
            f.write(text)
    return catalog


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    parser.add_argument("--screenshot", default=os.path.join(tempfile.gettempdir(), "onemap-viewer-signed-in.png"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="onemap-signin-")
    db = os.path.join(work, "onemap.sqlite")
    subprocess.run([args.binary, "load", "--catalog", restricted_catalog(work), "--db", db, "--no-topology"],
                   check=True, stdout=subprocess.DEVNULL)
    made = subprocess.run([args.binary, "keys", "create", "--role", "planner", "--name", "规划甲", "--db", db],
                          check=True, capture_output=True, text=True)
    key = re.search(r"om_[A-Za-z0-9_-]+", made.stdout + made.stderr).group(0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.binary, "serve", "--db", db, "--port", str(port), "--assets", ROOT],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chrome = None
    check = Checks()

    try:
        wait_http(base + "/health")
        chrome, b = start_chromium(work)
        b.send("Page.navigate", url=base + "/viewer")
        b.wait_for(READY, 90)
        who = b.evaluate("document.getElementById('who').textContent")
        listed = b.evaluate(LAYER_LIST) or ""
        check("anonymous: public layers only, and says so", "未登录" in who and "饮用水水源保护区" not in listed and "永久基本农田" in listed,
              f"{who!r}; {listed[:120]}")

        # Sign in with the key, as a user pastes it.
        b.evaluate(f"document.getElementById('credential').value = {json.dumps(key)}; "
                   "document.getElementById('signin-form').requestSubmit(); true")
        time.sleep(1)
        b.wait_for("document.readyState === 'complete' && !!window.onemapMap", 30)
        b.wait_for(READY, 90)
        who = b.evaluate("document.getElementById('who').textContent") or ""
        listed = b.evaluate(LAYER_LIST) or ""
        form_shown = b.evaluate("document.getElementById('signin-form').offsetParent !== null")
        check("signed in: the page says who, with the role, and offers to sign out", "规划甲" in who and "规划" in who and form_shown is False,
              f"{who!r}; the key's box {'still shown' if form_shown else 'hidden'}")
        check("signed in: the restricted layer is listed", "饮用水水源保护区" in listed, listed[:160])
        b.evaluate("window.onemapJumped = false; window.onemapMap.once('idle', () => { window.onemapJumped = true; });"
                   "window.onemapMap.jumpTo({center: [119.55, 28.15], zoom: 9}); true")
        b.wait_for("window.onemapJumped === true", 30)
        rendered = b.evaluate(RENDERED) or ""
        check("signed in: the restricted layer's tiles are drawn", "water_source" in rendered, rendered)
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(b.send("Page.captureScreenshot", format="png")["data"]))
        href = b.evaluate("location.href") or ""
        stored = b.evaluate("sessionStorage.getItem('onemap.credential') === " + json.dumps(key))
        check("the key is kept in the tab, never in the address", key not in href and stored is True, href)

        # A check needs the planner role here (the server is not --open): it goes through.
        document = b.send("DOM.getDocument")["root"]["nodeId"]
        node = b.send("DOM.querySelector", nodeId=document, selector="#file")["nodeId"]
        b.send("DOM.setFileInputFiles", files=[os.path.join(ROOT, "sampledata/projects/P08-pipeline-crossing.txt")], nodeId=node)
        b.wait_for("!document.getElementById('run').disabled", 10)
        b.evaluate("document.getElementById('run').click(); true")
        got = b.wait_for("!!document.getElementById('verdict')", 30)
        verdict = b.evaluate("document.getElementById('verdict') && document.getElementById('verdict').dataset.verdict")
        check("signed in: a check is made with the key", got and verdict == "forbidden", f"verdict {verdict}")

        time.sleep(0.5)
        b.send("Runtime.evaluate", expression="1")  # drain pending events
        check("no console errors while signed in", not b.errors, "; ".join(b.errors[:5]))

        b.evaluate("document.getElementById('signout').click(); true")
        time.sleep(1)
        b.wait_for(READY, 90)
        listed = b.evaluate(LAYER_LIST) or ""
        who = b.evaluate("document.getElementById('who').textContent") or ""
        check("signed out: the restricted layer is gone again", "饮用水水源保护区" not in listed and "未登录" in who, f"{who!r}")

        b.evaluate("document.getElementById('credential').value = 'om_not-a-key'; "
                   "document.getElementById('signin-form').requestSubmit(); true")
        refused = b.wait_for("document.getElementById('who').textContent.includes('登录失败')", 15)
        who = b.evaluate("document.getElementById('who').textContent") or ""
        stored = b.evaluate("sessionStorage.getItem('onemap.credential')")
        check("a wrong key is refused with the server's reason, and not kept", refused and stored is None, repr(who))
    except Exception as e:  # a crash of the harness is a failure, said plainly
        check("e2e harness", False, repr(e))
    finally:
        for p in (chrome, server):
            stop(p)

    # The signed-in reads of the restricted layer are on record, written by the stop at the latest.
    listing = subprocess.run([args.binary, "access", "list", "--who", "规划甲", "--layer", "water_source", "--json", "--db", db],
                             capture_output=True, text=True)
    total = json.loads(listing.stdout).get("total", 0) if listing.returncode == 0 else 0
    check("the reads of the restricted layer are on record", total > 0, f"{total} records; {listing.stderr.strip()[:200]}")
    verified = subprocess.run([args.binary, "access", "verify", "--db", db], capture_output=True, text=True)
    check("their chain holds", verified.returncode == 0, verified.stdout.strip()[:200])
    shutil.rmtree(work, ignore_errors=True)
    check.finish("viewer sign-in e2e")


if __name__ == "__main__":
    main()
