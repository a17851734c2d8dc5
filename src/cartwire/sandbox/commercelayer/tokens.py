"""RS512 JWTs signed with a key generated at start, verified statelessly (signature + `exp`).

The JS SDK decodes the payload with `atob()` (plain base64), which throws on the base64url
characters `-` and `_`. For ASCII text those only appear where a byte at offset 2 mod 3 is `>`,
`?`, `~` or DEL, so the JSON is written with those characters (and all non-ASCII) as `\\u`
escapes, which every JSON parser reads back unchanged: no segment ever contains `-` or `_`,
whatever the slug, client id or scope.
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in ">?~\x7f"}
_CACHE_SIZE = 4096


def _segment(value: dict[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True).translate(_ESCAPES)
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")


def _decode_segment(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


class TokenSigner:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = self._key.public_key()
        # Verified tokens → payload: repeated requests skip the RSA check; `exp` still applies.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def issue(self, claims: dict[str, Any]) -> str:
        header = _segment({"alg": "RS512", "typ": "JWT", "kid": self.kid})
        signing_input = f"{header}.{_segment(claims)}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA512())
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The payload of a valid, unexpired token signed by this server; else None."""
        payload = self._verified.get(token)
        if payload is None:
            payload = self._check_signature(token)
            if payload is None:
                return None
            self._verified[token] = payload
            if len(self._verified) > _CACHE_SIZE:
                self._verified.popitem(last=False)
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            return None
        return payload

    def _check_signature(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = _decode_segment(parts[0])
            payload = _decode_segment(parts[1])
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("alg") != "RS512":
            return None
        if header.get("kid") != self.kid or not isinstance(payload, dict):
            return None
        try:
            self._public.verify(
                signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA512()
            )
        except InvalidSignature:
            return None
        return payload
