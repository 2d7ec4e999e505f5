"""A small OpenID Connect provider for the browser test, on 127.0.0.1: discovery, JWKS, an authorization page where
the person types who they are at the provider and presses «Войти», and a token endpoint with client authentication
and PKCE (S256) that answers an ES256-signed ID token. Standard library and `cryptography` only.

    python oidc_provider.py PORT CLIENT_ID CLIENT_SECRET [SUBJECT=EMAIL ...]

A SUBJECT=EMAIL pair gives that account a verified e-mail address.
"""

import base64
import hashlib
import html
import json
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

PORT, CLIENT_ID, CLIENT_SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3]
EMAILS = dict(pair.split("=", 1) for pair in sys.argv[4:])
ISSUER = f"http://127.0.0.1:{PORT}"
KEY, KID = ec.generate_private_key(ec.SECP256R1()), "browser-test-key"
GRANTS = {}  # code → (subject, redirect_uri, code_challenge, nonce)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims):
    signing_input = b64url(json.dumps({"alg": "ES256", "typ": "JWT", "kid": KID}).encode()) + "." + b64url(json.dumps(claims).encode())
    r, s = decode_dss_signature(KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def jwks():
    numbers = KEY.public_key().public_numbers()
    return {"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID,
                      "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}]}


class Provider(BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            self.answer(200, {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
                              "jwks_uri": f"{ISSUER}/jwks", "response_types_supported": ["code"],
                              "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["ES256"]})
        elif url.path == "/jwks":
            self.answer(200, jwks())
        elif url.path == "/authorize":
            ok = (query.get("client_id") == CLIENT_ID and query.get("response_type") == "code"
                  and query.get("code_challenge_method") == "S256" and "openid" in query.get("scope", "").split())
            if not ok:
                self.answer(400, b"bad authorization request", "text/plain")
                return
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items())
            page = (f'<!doctype html><meta charset="utf-8"><title>Госуслуги (тест)</title><form method="post" action="/login">{hidden}'
                    '<label>Учётная запись <input id="subject" name="subject" required></label>'
                    '<button id="login" type="submit">Войти</button></form>')
            self.answer(200, page.encode(), "text/html; charset=utf-8")
        else:
            self.answer(404, {"error": "not_found"})

    def do_POST(self):
        form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
        if self.path == "/login":
            code = secrets.token_urlsafe(32)
            GRANTS[code] = (form["subject"], form["redirect_uri"], form["code_challenge"], form["nonce"])
            target = form["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": form["state"]})
            self.answer(302, b"", "text/plain", [("Location", target)])
        elif self.path == "/token":
            credentials = urllib.parse.quote(CLIENT_ID, safe="") + ":" + urllib.parse.quote(CLIENT_SECRET, safe="")
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(credentials.encode()).decode():
                self.answer(401, {"error": "invalid_client"})
                return
            grant = GRANTS.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            if (grant is None or form.get("redirect_uri") != grant[1]
                    or b64url(hashlib.sha256(verifier.encode()).digest()) != grant[2]):
                self.answer(400, {"error": "invalid_grant"})
                return
            subject, _, _, nonce = grant
            now = int(time.time())
            claims = {"iss": ISSUER, "sub": subject, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce}
            if subject in EMAILS:
                claims.update(email=EMAILS[subject], email_verified=True)
            self.answer(200, {"access_token": secrets.token_urlsafe(32), "token_type": "Bearer", "id_token": sign(claims)})
        else:
            self.answer(404, {"error": "not_found"})

    def log_message(self, format, *args):
        sys.stderr.write("provider: " + (format % args) + "\n")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Provider).serve_forever()
