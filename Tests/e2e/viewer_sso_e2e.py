#!/usr/bin/env python3
"""End-to-end test of the one-map page's single sign-on (统一身份认证), in headless Chromium,
against a small OpenID Connect provider run by this script (its own RSA key, JWKS, discovery
document, authorization and token endpoints; no mock inside OneMap). The provider refuses a
token request whose PKCE verifier does not match the challenge, a reused code, or a redirect
URI other than the one the code was given for, as a real one does.

The page learns the provider from `GET /v1/auth/login` (the server discovered its endpoints
at start), sends the person there with an S256 challenge, takes the code back, trades it
for a token, and is then signed in with the person's name, role and scope; the code leaves
the address at once and no token is ever in it. A forged return (wrong state) is refused.
Signing out signs out at the provider too. The reads made signed in are on record under the
person's name.

Usage: python3 Tests/e2e/viewer_sso_e2e.py [--binary .build/debug/onemap] [--screenshot sso.png]
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from e2e_server import Checks, free_port, stop, wait_http
from viewer_e2e import ROOT, start_chromium
from viewer_signin_e2e import LAYER_LIST, READY, restricted_catalog

CLIENT = "onemap-viewer"
PERSON = {"sub": "u-3310", "name": "王五", "roles": ["om-planner"], "xzqdm": ["331102"]}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    """An OIDC provider for one public client: authorization code with PKCE (S256 only)."""

    def __init__(self, port, redirect):
        self.base = f"http://127.0.0.1:{port}/realms/lishui"
        self.redirect = redirect
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes = {}  # code -> (challenge, redirect_uri)
        self.log = []  # what happened, for the checks: ("token", "ok") and so on
        numbers = self.key.public_key().public_numbers()
        self.jwks = {"keys": [{"kty": "RSA", "kid": "sso-1", "use": "sig", "alg": "RS256",
                               "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                               "e": b64url(numbers.e.to_bytes(3, "big"))}]}
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def go(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/realms/lishui/.well-known/openid-configuration":
                    provider.log.append(("discovery", "ok"))
                    return self.answer(200, {"issuer": provider.base, "authorization_endpoint": provider.base + "/auth",
                                             "token_endpoint": provider.base + "/token",
                                             "end_session_endpoint": provider.base + "/logout",
                                             "jwks_uri": provider.base + "/certs"})
                if url.path == "/realms/lishui/auth":
                    wrong = [k for k, v in (("response_type", "code"), ("client_id", CLIENT), ("redirect_uri", provider.redirect),
                                            ("code_challenge_method", "S256")) if q.get(k) != v]
                    if wrong or not q.get("code_challenge") or "openid" not in q.get("scope", "").split():
                        provider.log.append(("auth", "refused " + ",".join(wrong)))
                        return self.answer(400, {"error": "invalid_request", "error_description": "bad " + ",".join(wrong)})
                    code = secrets.token_urlsafe(24)
                    provider.codes[code] = (q["code_challenge"], q["redirect_uri"])
                    provider.log.append(("auth", "ok"))
                    # The person signs in at once: this provider knows one.
                    return self.go(q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q.get("state", "")}))
                if url.path == "/realms/lishui/logout":
                    provider.log.append(("logout", q.get("client_id", "")))
                    return self.go(q.get("post_logout_redirect_uri", "/"))
                self.answer(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                cors = [("Access-Control-Allow-Origin", self.headers.get("Origin", "*"))]
                given = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                reason = None
                if form.get("grant_type") != "authorization_code" or form.get("client_id") != CLIENT:
                    reason = "grant_type or client_id"
                elif given is None:
                    reason = "unknown or used code"
                elif given[1] != form.get("redirect_uri"):
                    reason = "redirect_uri differs"
                elif b64url(hashlib.sha256(verifier.encode()).digest()) != given[0]:
                    reason = "PKCE verifier does not match the challenge"
                if reason:
                    provider.log.append(("token", "refused: " + reason))
                    return self.answer(400, {"error": "invalid_grant", "error_description": reason}, cors)
                provider.log.append(("token", "ok"))
                self.answer(200, {"access_token": provider.token(), "token_type": "Bearer", "expires_in": 600}, cors)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self):
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": "sso-1"}
        claims = {"iss": self.base, "aud": "onemap", "iat": now, "nbf": now - 5, "exp": now + 600, **PERSON}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims, ensure_ascii=False).encode())
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing + "." + b64url(signature)

    def happened(self, kind):
        return [outcome for k, outcome in self.log if k == kind]


def wait(b, expression, seconds):
    """Like Browser.wait_for, through page loads (an evaluation during one fails)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if b.evaluate(expression):
                return True
        except Exception:
            pass
        time.sleep(0.25)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    parser.add_argument("--screenshot", default=os.path.join(tempfile.gettempdir(), "onemap-viewer-sso.png"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="onemap-sso-")
    db = os.path.join(work, "onemap.sqlite")
    subprocess.run([args.binary, "load", "--catalog", restricted_catalog(work), "--db", db, "--no-topology"],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = Provider(free_port(), base + "/viewer")
    with open(os.path.join(work, "jwks.json"), "w") as f:
        json.dump(provider.jwks, f)
    # No endpoints given: the server finds them in the provider's discovery document.
    with open(os.path.join(work, "auth.yaml"), "w", encoding="utf-8") as f:
        f.write(f"issuer: {provider.base}\naudience: onemap\njwks: jwks.json\nclaims: {{roles: roles, scope: xzqdm}}\n"
                f"roles: {{om-planner: planner}}\nviewer_login:\n  client_id: {CLIENT}\n")
    server = subprocess.Popen([args.binary, "serve", "--db", db, "--port", str(port), "--assets", ROOT,
                               "--auth", os.path.join(work, "auth.yaml")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chrome = None
    check = Checks()
    try:
        wait_http(base + "/health")
        check("the server found the provider's endpoints at start", provider.happened("discovery") == ["ok"], provider.log)
        chrome, b = start_chromium(work)
        b.send("Page.navigate", url=base + "/viewer#9/28.15/119.55")
        b.wait_for(READY, 90)
        offered = b.evaluate("!document.getElementById('sso').hidden")
        listed = b.evaluate(LAYER_LIST) or ""
        check("anonymous: the page offers the provider's sign-in, and public layers only",
              offered is True and "饮用水水源保护区" not in listed, listed[:120])

        b.evaluate("document.getElementById('sso').click(); true")
        signed = wait(b, "document.getElementById('who').textContent.includes('王五')", 60)
        wait(b, READY, 90)
        who = b.evaluate("document.getElementById('who').textContent") or ""
        check("signed in through the provider: name, role and scope shown", signed and "规划" in who and "331102" in who,
              f"{who!r}; provider saw {provider.log}")
        check("the provider was asked with an S256 challenge and the verifier matched",
              provider.happened("auth") == ["ok"] and provider.happened("token") == ["ok"], provider.log)
        href = b.evaluate("location.href") or ""
        token = b.evaluate("sessionStorage.getItem('onemap.credential')") or ""
        check("the code left the address, no token is in it, and the view came back",
              "code=" not in href and "state=" not in href and token.count(".") == 2 and token not in href
              and urllib.parse.urlsplit(href).fragment.startswith("9/"), href)
        listed = b.evaluate(LAYER_LIST) or ""
        check("signed in: the restricted layer is listed", "饮用水水源保护区" in listed, listed[:160])
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(b.send("Page.captureScreenshot", format="png")["data"]))

        # The page's own SHA-256, for pages without crypto.subtle (plain http off localhost).
        text = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk统一身份认证"
        mine = b.evaluate(f"base64url(sha256Bytes(new TextEncoder().encode({json.dumps(text)})))")
        check("the page's SHA-256 fallback agrees with hashlib", mine == b64url(hashlib.sha256(text.encode()).digest()), mine)

        time.sleep(0.5)
        b.send("Runtime.evaluate", expression="1")
        check("no console errors while signed in", not b.errors, "; ".join(b.errors[:5]))

        # A return this tab did not start (a forged or replayed one): refused, not signed in.
        b.send("Page.navigate", url=base + "/viewer?code=stolen&state=forged")
        refused = wait(b, "document.getElementById('who').textContent.includes('登录失败')", 30)
        who = b.evaluate("document.getElementById('who').textContent") or ""
        stored = b.evaluate("sessionStorage.getItem('onemap.credential')")
        href = b.evaluate("location.href") or ""
        check("a return with a state this tab did not send is refused", refused and stored is None and "code=" not in href,
              f"{who!r} {href}")
        check("and its code never reached the provider", provider.happened("token") == ["ok"], provider.log)

        # Signed in again, then out: out at the provider too, and back to the page.
        b.send("Page.navigate", url=base + "/viewer")
        wait(b, READY, 90)
        b.evaluate("document.getElementById('sso').click(); true")
        wait(b, "document.getElementById('who').textContent.includes('王五')", 60)
        wait(b, READY, 90)
        b.evaluate("document.getElementById('signout').click(); true")
        out = wait(b, "document.getElementById('who').textContent.includes('未登录')", 60)
        check("signing out signs out at the provider and comes back anonymous",
              out and provider.happened("logout") == [CLIENT] and b.evaluate("sessionStorage.getItem('onemap.credential')") is None,
              provider.log)
    except Exception as e:  # a crash of the harness is a failure, said plainly
        check("e2e harness", False, repr(e))
    finally:
        for p in (chrome, server):
            stop(p)
        provider.server.shutdown()

    listing = subprocess.run([args.binary, "access", "list", "--who", "sso:王五 (u-3310)", "--layer", "water_source", "--json",
                              "--db", db], capture_output=True, text=True)
    total = json.loads(listing.stdout).get("total", 0) if listing.returncode == 0 else 0
    check("the reads made signed in are on record under the person's name", total > 0, f"{total}; {listing.stderr.strip()[:200]}")
    shutil.rmtree(work, ignore_errors=True)
    check.finish("viewer single sign-on e2e")


if __name__ == "__main__":
    main()
