#!/usr/bin/env python3
"""Generates fake tokens with the right shape for rule examples and tests.

Nothing produced here is a real credential: bodies are random (or given), and
checksums are computed with the provider's documented algorithm so that
checksum validators accept them.

    scripts/gen-token.py github ghp_          # random body
    scripts/gen-token.py github ghp_ BODY30   # fixed 30-character body
    scripts/gen-token.py random 40 [ALPHABET]  # ALPHABET may be hex, b64, b64url, upper
    scripts/gen-token.py jwt [ALG]             # {"alg": ALG (HS256), "typ": "JWT"}, random claims and signature
"""
from __future__ import annotations

import base64
import json
import secrets
import string
import sys
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALPHABETS = {
    "hex": "0123456789abcdef",
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "-_",
    "upper": string.ascii_uppercase + string.digits,
}


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        out = BASE62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def github(prefix: str, body: str | None = None) -> str:
    body = body or "".join(secrets.choice(BASE62) for _ in range(30))
    assert len(body) == 30
    return prefix + body + base62(zlib.crc32(body.encode()), 6)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(alg: str = "HS256") -> str:
    header = json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode()
    claims = json.dumps({"sub": secrets.token_hex(6), "iat": 1700000000 + secrets.randbelow(10**8)},
                        separators=(",", ":")).encode()
    sig = secrets.token_bytes(32 if alg.startswith("HS") else 256)
    return ".".join([b64url(header), b64url(claims), b64url(sig)])


def main() -> None:
    kind = sys.argv[1]
    if kind == "github":
        print(github(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    elif kind == "random":
        alphabet = sys.argv[3] if len(sys.argv) > 3 else BASE62
        alphabet = ALPHABETS.get(alphabet, alphabet)
        print("".join(secrets.choice(alphabet) for _ in range(int(sys.argv[2]))))
    elif kind == "jwt":
        print(jwt(sys.argv[2] if len(sys.argv) > 2 else "HS256"))
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
