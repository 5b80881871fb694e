"""The Ed25519 key that signs tree heads: generated once into the data directory, or supplied."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

KEY_FILE = "signing-key.pem"
ALGORITHM = "Ed25519"


class SigningKeyError(Exception):
    """The configured signing key cannot be used."""


def key_id_of(public_raw: bytes) -> str:
    """A short stable name for a public key: the first 16 hex digits of SHA-256 of its bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_key_of(public_raw: bytes) -> Ed25519PublicKey:
    """A public key from its 32 raw bytes."""
    return Ed25519PublicKey.from_public_bytes(public_raw)


def public_pem(public_raw: bytes) -> str:
    """A public key as SubjectPublicKeyInfo PEM, the form `openssl pkey -pubin` reads."""
    pem = public_key_of(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


class SigningKey:
    """A private key with the public forms auditors need."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.public_raw = self.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id_of(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of message."""
        return self._private.sign(message)

    @property
    def public_pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM."""
        return public_pem(self.public_raw)

    @property
    def public_base64(self) -> str:
        """The 32 raw public key bytes, base64."""
        return base64.b64encode(self.public_raw).decode()

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for the key file."""
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())


def signing_key(data_dir: Path, configured: Path | None = None) -> SigningKey:
    """The configured key file, or data_dir/signing-key.pem, created on first use."""
    if configured is not None:
        if not configured.exists():
            raise SigningKeyError(f"signing key file {configured} does not exist")
        return load(configured)
    path = data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    return load(path)


def load(path: Path) -> SigningKey:
    """Read an unencrypted PEM Ed25519 private key."""
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("signing key %s is readable by other users; chmod 600 it", path)
    return SigningKey(private)


def _create(path: Path) -> None:
    """Write a new key at path unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a private temporary file, then linked into place: a second worker
    # starting at the same moment either links first or reads the complete winner.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(SigningKey.generate().private_pem())
        try:
            os.link(temporary, path)
            log.info("generated a signing key for seals in %s", path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
