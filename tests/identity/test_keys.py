"""The key store: create, load, rotate, and its refusals."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from allmende.identity import KeyStore, KeyStoreError
from allmende.identity.key_encoding import raw_public_bytes

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _raw(store: KeyStore) -> list[bytes]:
    return [raw_public_bytes(key.public_key) for key in store.all()]


def test_create_then_load_gives_the_same_key(tmp_path: Path) -> None:
    created = KeyStore.create(tmp_path / "keys")
    loaded = KeyStore.load(tmp_path / "keys")
    assert created.active.key_id == loaded.active.key_id == "key-1"
    assert _raw(created) == _raw(loaded)
    signature = loaded.active.sign(b"payload")
    created.active.public_key.verify(signature, b"payload")


@posix_only
def test_files_are_private(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path / "keys")
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((store.folder / "key-1.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((store.folder / "keystore.json").stat().st_mode) == 0o600


def test_create_refuses_existing_keys(tmp_path: Path) -> None:
    KeyStore.create(tmp_path)
    before = (tmp_path / "key-1.pem").read_bytes()
    with pytest.raises(KeyStoreError, match="refusing"):
        KeyStore.create(tmp_path)
    assert (tmp_path / "key-1.pem").read_bytes() == before


def test_rotate_adds_an_active_key_and_keeps_the_old_one(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path)
    first = store.active
    second = store.rotate()
    assert store.active == second and second.key_id == "key-2"
    assert [key.key_id for key in store.all()] == ["key-1", "key-2"]
    reloaded = KeyStore.load(tmp_path)
    assert reloaded.active.key_id == "key-2"
    assert _raw(reloaded) == [raw_public_bytes(first.public_key), raw_public_bytes(second.public_key)]
    assert not list(tmp_path.glob(".*tmp"))


def test_load_missing_store(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match=r"keystore\.json is missing"):
        KeyStore.load(tmp_path)


def test_load_missing_key_file(tmp_path: Path) -> None:
    KeyStore.create(tmp_path).rotate()
    (tmp_path / "key-1.pem").unlink()
    with pytest.raises(KeyStoreError, match=r"cannot read private key file .*key-1\.pem"):
        KeyStore.load(tmp_path)


@posix_only
def test_load_refuses_readable_key_file(tmp_path: Path) -> None:
    KeyStore.create(tmp_path)
    (tmp_path / "key-1.pem").chmod(0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        KeyStore.load(tmp_path)


def test_load_refuses_corrupt_key_file(tmp_path: Path) -> None:
    KeyStore.create(tmp_path)
    (tmp_path / "key-1.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyStoreError, match="not a readable unencrypted PEM"):
        KeyStore.load(tmp_path)


def test_load_refuses_non_ed25519_key(tmp_path: Path) -> None:
    KeyStore.create(tmp_path)
    pem = generate_private_key(SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "key-1.pem").write_bytes(pem)
    with pytest.raises(KeyStoreError, match="not Ed25519"):
        KeyStore.load(tmp_path)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps([1]), "corrupt"),
        (json.dumps({"version": 2, "active": "key-1", "keys": []}), "corrupt"),
        (json.dumps({"version": 1, "active": "key-1", "keys": ["key-1"]}), "not an object"),
        (json.dumps({"version": 1, "active": "key-1", "keys": [{"id": "../x"}]}), "invalid key id"),
        (json.dumps({"version": 1, "active": "key-1", "keys": [{"id": "key-1"}, {"id": "key-1"}]}), "twice"),
        (json.dumps({"version": 1, "active": "key-9", "keys": [{"id": "key-1"}]}), "not listed"),
    ],
)
def test_load_refuses_corrupt_manifest(tmp_path: Path, manifest: str, message: str) -> None:
    KeyStore.create(tmp_path)
    (tmp_path / "keystore.json").write_text(manifest)
    with pytest.raises(KeyStoreError, match=message):
        KeyStore.load(tmp_path)
