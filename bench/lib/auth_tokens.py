#!/usr/bin/env python3
"""Issue 25's row: a throwaway identity provider for `onemap serve --auth`, and the checks
that the server takes its tokens as it should before they are timed.

  auth_tokens.py provider --dir D [--issuer I] [--audience A] [--subject S] [--role R]
      Makes an RSA (2048) and an EC P-256 key, D/jwks.json with both public keys (kid
      bench-rsa, bench-ec), D/auth.yaml naming them (as deploy/auth.example.yaml does; the
      provider's role R maps to OneMap's planner), and two tokens for S with roles [R],
      valid for an hour: D/token (RS256, the one the bench times) and D/token_es256. The
      private keys stay in memory. Prints a JSON summary.
  auth_tokens.py verify --url BASE --dir D --body FEATURE.json --out OUT.json
      On a server started with --open and --auth D/auth.yaml: a check posted with the token
      answers 201 and GET /v1/checks (with the token) lists it as made by `sso:…`; a check
      posted with the token's signature altered answers 401; an anonymous check answers 201;
      and, for the record, whether the ES256 token is taken too. Exits non-zero naming what
      failed; writes what it saw to OUT.
  auth_tokens.py warm --url BASE --paths TILES.tsv --dir D --out OUT.json
      Asks for every tile of the wrk list (`GET<TAB>path` lines), gzip, once anonymously and
      once with the token, so both are in the server's cache before anything is timed; every
      answer must be 200 or 204. Says whether the two callers got the same bytes.

Runs in the bench's venv (PyJWT and cryptography from PyPI); the requests use the standard
library only, one kept-alive connection each.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.bench.invalid/realms/onemap-bench"
AUDIENCE = "onemap-bench"
LIFETIME_S = 3600


def fail(message):
    print(f"auth_tokens.py: {message}", file=sys.stderr)
    sys.exit(1)


def public_jwk(to_jwk, key, kid, alg):
    """One public key as a JWK with its kid; PyJWT's to_jwk returns a JSON text."""
    jwk = json.loads(to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": alg})
    return jwk


def provider(a):
    os.makedirs(a.dir, exist_ok=True)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks = {"keys": [public_jwk(RSAAlgorithm.to_jwk, rsa_key, "bench-rsa", "RS256"),
                     public_jwk(ECAlgorithm.to_jwk, ec_key, "bench-ec", "ES256")]}
    with open(os.path.join(a.dir, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.dir, "auth.yaml"), "w") as f:
        f.write("# bench/run --only auth: a throwaway identity provider (bench/lib/auth_tokens.py provider).\n"
                f"issuer: {a.issuer}\n"
                f"audience: {a.audience}\n"
                "jwks: jwks.json\n"
                "algorithms: [RS256, ES256]\n"
                "clock_skew_seconds: 60\n"
                "claims: {roles: roles, scope: xzqdm}\n"
                "roles:\n"
                f"  {a.role}: planner\n")
    now = int(time.time())
    claims = {"iss": a.issuer, "aud": a.audience, "sub": a.subject, "roles": [a.role],
              "iat": now, "nbf": now, "exp": now + LIFETIME_S}
    tokens = {"token": jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "bench-rsa"}),
              "token_es256": jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "bench-ec"})}
    for name, token in tokens.items():
        path = os.path.join(a.dir, name)
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
    # The tokens must verify with the published keys alone, as the server will check them.
    for name, token in tokens.items():
        kid = jwt.get_unverified_header(token)["kid"]
        jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
        key = (RSAAlgorithm if jwk["kty"] == "RSA" else ECAlgorithm).from_jwk(json.dumps(jwk))
        jwt.decode(token, key, algorithms=[jwk["alg"]], audience=a.audience, issuer=a.issuer)
    json.dump({"issuer": a.issuer, "audience": a.audience, "subject": a.subject, "role": a.role,
               "kids": [k["kid"] for k in jwks["keys"]], "timed_token": "RS256 (kid bench-rsa)",
               "token_bytes": len(tokens["token"]), "lifetime_s": LIFETIME_S, "pyjwt": jwt.__version__},
              sys.stdout)
    print()


def read_token(d, name="token"):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def tampered(token):
    """The token with one character of its signature changed. A character in the middle: the
    last one of a base64url signature may carry unused bits only, and still decode the same."""
    head, payload, sig = token.split(".")
    i = len(sig) // 2
    sig = sig[:i] + ("B" if sig[i] == "A" else "A") + sig[i + 1:]
    return ".".join([head, payload, sig])


class Client:
    """One kept-alive HTTP/1.1 connection to the server."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)

    def ask(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


def as_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def verify(a):
    token, token_es = read_token(a.dir), read_token(a.dir, "token_es256")
    with open(a.body) as f:
        feature = json.load(f)
    c = Client(a.url)
    seen = {}
    code = f"bench-auth-{time.time_ns()}"
    body = json.dumps({"projectCode": code, "feature": feature}, ensure_ascii=False).encode()

    status, headers, answer = c.ask("POST", "/v1/checks", token, body)
    seen["token_post_status"] = status
    if status != 201:
        fail(f"a check posted with the bench token answered {status}, not 201: {answer[:300]!r}")
    location = headers.get("location", "")
    record_id = location.rsplit("/", 1)[-1]
    if not location.startswith("/v1/checks/") or not record_id:
        fail(f"the check posted with the token answered 201 without a Location /v1/checks/ID (got {location!r})")
    seen["record_id"] = record_id

    status, _, listing = c.ask("GET", "/v1/checks?" + urllib.parse.urlencode({"projectCode": code, "limit": 10}), token)
    seen["token_list_status"] = status
    if status != 200:
        fail(f"GET /v1/checks with the bench token answered {status}, not 200: {listing[:300]!r}")
    items = (as_json(listing) or {}).get("items", [])
    mine = [x for x in items if x.get("id") == record_id]
    if not mine:
        fail(f"GET /v1/checks?projectCode={code} with the token does not list the record {record_id} it posted "
             f"(items: {[x.get('id') for x in items]})")
    key_name = mine[0].get("keyName")
    seen["record_key_name"] = key_name
    if not (key_name == "sso:bench" or (isinstance(key_name, str) and key_name.startswith("sso:"))):
        fail(f"the record {record_id} posted with the token is recorded as made by {key_name!r}, "
             "not by the token's subject (sso:bench)")

    bad = tampered(token)
    status, headers, answer = c.ask("POST", "/v1/checks", bad, body)
    seen["tampered_post_status"] = status
    seen["tampered_answer"] = (as_json(answer) or {}).get("detail") or answer[:200].decode("utf-8", "replace")
    seen["tampered_www_authenticate"] = headers.get("www-authenticate")
    if status != 401:
        fail(f"a check posted with the token's signature altered answered {status}, not 401: {answer[:300]!r}")

    status, _, answer = c.ask("POST", "/v1/checks", None, body)
    seen["anonymous_post_status"] = status
    if status != 201:
        fail(f"an anonymous check (server under --open) answered {status}, not 201: {answer[:300]!r}")

    # Not timed: the provider's second key, for the record.
    status, _, _ = c.ask("GET", "/v1/checks?limit=1", token_es)
    seen["es256_list_status"] = status
    seen["es256_accepted"] = status == 200

    with open(a.out, "w") as f:
        json.dump(seen, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"auth: token check 201, recorded as {key_name}; tampered token {seen['tampered_post_status']}; "
          f"anonymous check 201; ES256 token {'accepted' if seen['es256_accepted'] else 'refused (' + str(status) + ')'}",
          file=sys.stderr)


def warm(a):
    token = read_token(a.dir)
    paths = []
    with open(a.paths) as f:
        for line in f:
            method, path = line.rstrip("\n").split("\t")[:2]
            if method != "GET":
                fail(f"{a.paths}: expected GET lines only, got {line!r}")
            paths.append(path)
    if not paths:
        fail(f"{a.paths}: no tiles")
    out = {"tiles": len(paths)}
    bodies = {}
    for who, tok in (("anonymous", None), ("token", token)):
        c = Client(a.url)
        statuses, got, t0 = {}, [], time.time()
        for p in paths:
            status, _, body = c.ask("GET", p, tok, headers={"Accept-Encoding": "gzip"})
            statuses[status] = statuses.get(status, 0) + 1
            if status not in (200, 204):
                fail(f"warming the tiles: GET {p} ({who}) answered {status}: {body[:200]!r}")
            got.append(body)
        bodies[who] = got
        out[who] = {"seconds": round(time.time() - t0, 3), "statuses": {str(k): v for k, v in sorted(statuses.items())},
                    "bytes": sum(len(b) for b in got)}
    out["same_bytes"] = sum(x == y for x, y in zip(bodies["anonymous"], bodies["token"]))
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"auth: tiles warmed, {len(paths)} anonymously in {out['anonymous']['seconds']:.1f} s and with the token in "
          f"{out['token']['seconds']:.1f} s; same bytes for {out['same_bytes']} of {len(paths)}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("provider")
    p.add_argument("--dir", required=True)
    p.add_argument("--issuer", default=ISSUER)
    p.add_argument("--audience", default=AUDIENCE)
    p.add_argument("--subject", default="bench")
    p.add_argument("--role", default="bench-planner")
    p = sub.add_parser("verify")
    p.add_argument("--url", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("warm")
    p.add_argument("--url", required=True)
    p.add_argument("--paths", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    {"provider": provider, "verify": verify, "warm": warm}[a.cmd](a)


if __name__ == "__main__":
    main()
