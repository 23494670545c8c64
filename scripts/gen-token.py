#!/usr/bin/env python3
"""Generates fake tokens with the right shape for rule examples and tests.

Nothing produced here is a real credential: bodies are random (or given), and
checksums are computed with the provider's documented algorithm so that
checksum validators accept them.

    scripts/gen-token.py github ghp_          # random body
    scripts/gen-token.py github ghp_ BODY30   # fixed 30-character body
    scripts/gen-token.py random 40 [ALPHABET]
"""
import secrets
import string
import sys
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


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


def main() -> None:
    kind = sys.argv[1]
    if kind == "github":
        print(github(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    elif kind == "random":
        alphabet = sys.argv[3] if len(sys.argv) > 3 else BASE62
        print("".join(secrets.choice(alphabet) for _ in range(int(sys.argv[2]))))
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
