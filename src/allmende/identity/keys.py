"""The node's Ed25519 signing keys and the folder that stores them.

Layout of a key store folder (mode 0700)::

    keystore.json   {"version": 1, "active": "key-2", "keys": [{"id": "key-1", "created": "..."}, ...]}
    key-1.pem       PKCS#8 PEM private key, mode 0600
    key-2.pem

Several keys can be held so that tokens and credentials signed with a retired key stay verifiable for a
while after a rotation; exactly one key is active and signs new tokens. Private key files that group or
others may read are an error (``KeyStoreError``), not a warning: a leaked node key lets anyone act as the
node, so the operator must ``chmod 600`` them before the node starts.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from allmende.clock import isoformat, utcnow
from allmende.identity.errors import KeyStoreError
from allmende.identity.key_encoding import public_key_to_jwk, public_key_to_multibase

MANIFEST_NAME = "keystore.json"
_KEY_ID = re.compile(r"key-([1-9][0-9]{0,8})")


@dataclass(frozen=True)
class NodeKey:
    """One Ed25519 key pair of the node; ``key_id`` is the DID URL fragment, e.g. ``"key-1"``."""

    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half of the key pair."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """Public JWK (kty OKP, crv Ed25519, x) with ``kid`` set to the key id."""
        return {**public_key_to_jwk(self.public_key), "kid": self.key_id}

    def public_multibase(self) -> str:
        """Multikey ``publicKeyMultibase`` value: ``z`` + base58btc(0xed01 + raw public key)."""
        return public_key_to_multibase(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return self.private_key.sign(data)


class KeyStore:
    """The node's keys, persisted in one folder; one key is active, older ones stay loadable."""

    def __init__(self, folder: Path, keys: list[NodeKey], active_id: str, created: dict[str, str]) -> None:
        self._folder = folder
        self._keys = keys
        self._active_id = active_id
        self._created = created
        self._rotating = threading.Lock()

    @property
    def folder(self) -> Path:
        """The folder that holds the key files and the manifest."""
        return self._folder

    @property
    def active(self) -> NodeKey:
        """The key that signs new tokens and credentials."""
        return next(key for key in self._keys if key.key_id == self._active_id)

    def all(self) -> list[NodeKey]:
        """Every key held, oldest first (all of them belong in the DID document)."""
        return list(self._keys)

    def created(self, key_id: str) -> str:
        """When the key was created, as the manifest records it (RFC 3339; empty when unknown)."""
        return self._created.get(key_id, "")

    @classmethod
    def create(cls, folder: Path | str) -> KeyStore:
        """Create a key store with a fresh ``key-1``; refuses a folder that already holds keys."""
        path = Path(folder)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = sorted(p.name for p in path.iterdir() if p.name == MANIFEST_NAME or p.suffix == ".pem")
        if existing:
            raise KeyStoreError(f"refusing to create a key store in {path}: it already holds {existing}")
        store = cls(path, [], "", {})
        store._add_key("key-1")
        return store

    @classmethod
    def load(cls, folder: Path | str) -> KeyStore:
        """Load an existing key store; raises KeyStoreError if anything is missing, corrupt or unsafe."""
        path = Path(folder)
        manifest = _read_manifest(path)
        keys = [_read_private_key(path, key_id) for key_id in manifest["ids"]]
        return cls(path, keys, manifest["active"], manifest["created"])

    def next_key_id(self) -> str:
        """The id the next ``rotate()`` gives its key."""
        return f"key-{max(_key_number(key.key_id) for key in self._keys) + 1}"

    def rotate(self) -> NodeKey:
        """Generate a new key and make it active; the previous keys are kept for verification.

        Safe to call from several threads: rotations run one after the other. Readers of ``active``
        see the old key until the new one is written to disk and listed.
        """
        with self._rotating:
            return self._add_key(self.next_key_id())

    def _add_key(self, key_id: str) -> NodeKey:
        # The manifest on disk changes first: if writing fails, the store in memory is unchanged.
        key = NodeKey(key_id, Ed25519PrivateKey.generate())
        pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        key_file = self._folder / f"{key_id}.pem"
        _write_new_file(key_file, pem)
        keys = [*self._keys, key]
        created = {**self._created, key_id: isoformat(utcnow())}
        try:
            self._write_manifest(keys, key_id, created)
        except BaseException:
            key_file.unlink(missing_ok=True)  # an unlisted key file would block the next rotation
            raise
        self._keys = keys
        self._created = created
        self._active_id = key_id
        return key

    def _write_manifest(self, keys: list[NodeKey], active_id: str, created: dict[str, str]) -> None:
        manifest = {
            "version": 1,
            "active": active_id,
            "keys": [{"id": key.key_id, "created": created[key.key_id]} for key in keys],
        }
        temporary = self._folder / f".{MANIFEST_NAME}.tmp"
        temporary.unlink(missing_ok=True)
        _write_new_file(temporary, json.dumps(manifest, indent=2).encode("utf-8"))
        os.replace(temporary, self._folder / MANIFEST_NAME)


def _key_number(key_id: object) -> int:
    """Return n of a ``key-<n>`` id; raises KeyStoreError for anything else."""
    if not isinstance(key_id, str) or not (match := _KEY_ID.fullmatch(key_id)):
        raise KeyStoreError(f"invalid key id {key_id!r} in key store manifest (expected 'key-<n>')")
    return int(match.group(1))


def _write_new_file(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise KeyStoreError(f"no key store in {folder}: {MANIFEST_NAME} is missing") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyStoreError(f"key store manifest {path} is unreadable or not JSON: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("keys"), list):
        raise KeyStoreError(f"key store manifest {path} is corrupt: expected version 1 and a 'keys' list")
    ids: list[str] = []
    created: dict[str, str] = {}
    for entry in data["keys"]:
        if not isinstance(entry, dict):
            raise KeyStoreError(f"key store manifest {path} is corrupt: key entry {entry!r} is not an object")
        key_id = f"key-{_key_number(entry.get('id'))}"
        if key_id in created:
            raise KeyStoreError(f"key store manifest {path} lists {key_id} twice")
        ids.append(key_id)
        created[key_id] = str(entry.get("created", ""))
    if data.get("active") not in created:
        raise KeyStoreError(f"key store manifest {path}: active key {data.get('active')!r} is not listed")
    return {"ids": ids, "active": data["active"], "created": created}


def _read_private_key(folder: Path, key_id: str) -> NodeKey:
    path = folder / f"{key_id}.pem"
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as error:
        raise KeyStoreError(f"cannot read private key file {path}: {error.strerror or error}") from error
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyStoreError(
            f"private key file {path} is accessible by group or others (mode {stat.filemode(mode)}); "
            f"run 'chmod 600 {path}'"
        )
    try:
        private_key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KeyStoreError(
            f"private key file {path} is not a readable unencrypted PEM key: {error}"
        ) from error
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyStoreError(f"private key file {path} holds a {type(private_key).__name__}, not Ed25519")
    return NodeKey(key_id, private_key)
