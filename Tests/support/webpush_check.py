"""Reads a Web Push request as a browser and its push service would, with implementations independent of Zvonok's.

Input on stdin, JSON: {"body": base64, "uaPrivate": hex of the subscription's P-256 scalar, "auth": base64 of its
auth secret, "authorization": the request's Authorization header}. Output on stdout, JSON: {"plaintext": the
decrypted payload (http-ece, RFC 8291 aes128gcm), "claims": the VAPID JWT's claims, "header": its header, "key": the
VAPID public key (base64url) whose ES256 signature was verified (cryptography)}. Exits non-zero when anything fails.
"""
import base64
import json
import sys

import http_ece
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main():
    request = json.load(sys.stdin)
    ua_private = ec.derive_private_key(int(request["uaPrivate"], 16), ec.SECP256R1())
    plaintext = http_ece.decrypt(
        base64.b64decode(request["body"]), private_key=ua_private, auth_secret=base64.b64decode(request["auth"]), version="aes128gcm"
    )
    scheme, _, parameters = request["authorization"].partition(" ")
    assert scheme == "vapid", scheme
    fields = dict(part.strip().split("=", 1) for part in parameters.split(","))
    token, key = fields["t"], fields["k"]
    header, claims, signature = token.split(".")
    raw = b64url(signature)
    assert len(raw) == 64, "an ES256 JWS signature is r and s, 32 bytes each"
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url(key))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    json.dump(
        {"plaintext": plaintext.decode(), "claims": json.loads(b64url(claims)), "header": json.loads(b64url(header)), "key": key},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
