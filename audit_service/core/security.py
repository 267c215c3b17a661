"""Passwords (Argon2id), signed access tokens, refresh secrets and secret encryption."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken

from audit_service.core.errors import Unauthenticated

# OWASP (2024) recommends Argon2id with m=19 MiB, t=2, p=1 as a minimum; we go above it.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1, type=Type.ID)
_ALGORITHM = "HS256"
_ISSUER = "auditlens"

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Used to spend the same time on unknown usernames as on known ones.
DUMMY_HASH = hash_password("timing-equaliser-not-a-password")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: uuid.UUID
    expires_at: datetime


def mint_access_token(
    secret: str, *, user_id: int, session_id: uuid.UUID, ttl_s: int, now: datetime
) -> tuple[str, datetime]:
    expires = now + timedelta(seconds=ttl_s)
    payload = {
        "iss": _ISSUER,
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "typ": "access",
    }
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), expires


def decode_access_token(secret: str, token: str, *, now: datetime) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            # Time claims are checked against the injected clock below, never jwt's own wall
            # clock: otherwise a service clock ahead of the host's rejects fresh tokens (iat).
            options={
                "require": ["exp", "sub", "sid", "typ"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("access token is invalid; log in again") from exc
    if payload.get("typ") != "access":
        raise Unauthenticated("not an access token; log in again")
    try:
        expires = int(payload["exp"])
        claims = AccessClaims(
            user_id=int(payload["sub"]),
            session_id=uuid.UUID(str(payload["sid"])),
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise Unauthenticated("access token is invalid; log in again") from exc
    if expires <= int(now.timestamp()):
        raise Unauthenticated("access token expired; refresh it or log in again")
    return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Refresh tokens are stored only as their SHA-256, like passwords they are secrets."""
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(("auditlens-secrets:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt_secret(secret_key: str, ciphertext: str) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return ""
