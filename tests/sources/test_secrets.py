"""The secret store: round trip, file modes, tampering and wrong keys, messages without values."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from allmende.sources.errors import SecretError, SecretNotFound
from allmende.sources.secrets import KEY_FILE, SECRETS_FILE, SecretRef, SecretStore

VALUE = "Bearer s3cr3t-t0ken-value"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _no_value_in(exc: BaseException, value: str = VALUE) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert value not in text
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None


def test_round_trip_and_names(tmp_path: Path) -> None:
    store = SecretStore.create(tmp_path / "secrets")
    ref = store.put("erp.token", VALUE)
    store.put("db-url", "postgresql://u:pw@h/db")
    assert ref == SecretRef("erp.token")
    assert str(ref) == "secret:erp.token"
    assert SecretRef.parse("secret:erp.token") == ref
    reloaded = SecretStore.load(tmp_path / "secrets")
    assert reloaded.get("erp.token") == VALUE
    assert reloaded.get(ref) == VALUE
    assert reloaded.names() == ["db-url", "erp.token"]
    store.put("erp.token", "replaced")
    assert reloaded.get("erp.token") == "replaced"
    reloaded.delete("db-url")
    assert store.names() == ["erp.token"]
    with pytest.raises(SecretNotFound, match="no secret named 'db-url'"):
        store.get("db-url")
    with pytest.raises(SecretNotFound):
        store.delete("db-url")


def test_files_are_private_and_hold_no_plaintext(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    store = SecretStore.create(folder)
    store.put("a", VALUE)
    assert _mode(folder / KEY_FILE) == 0o600
    assert _mode(folder / SECRETS_FILE) == 0o600
    assert _mode(folder) == 0o700
    assert len((folder / KEY_FILE).read_bytes()) == 32
    text = (folder / SECRETS_FILE).read_text()
    assert VALUE not in text
    assert "s3cr3t" not in text
    assert VALUE not in repr(store)
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_each_value_gets_a_fresh_nonce(tmp_path: Path) -> None:
    store = SecretStore.create(tmp_path)
    store.put("a", VALUE)
    store.put("b", VALUE)
    entries = json.loads((tmp_path / SECRETS_FILE).read_text())["secrets"]
    assert entries["a"]["nonce"] != entries["b"]["nonce"]
    assert entries["a"]["ciphertext"] != entries["b"]["ciphertext"]


def test_create_refuses_an_existing_key(tmp_path: Path) -> None:
    SecretStore.create(tmp_path).put("a", VALUE)
    with pytest.raises(SecretError, match="refusing to replace"):
        SecretStore.create(tmp_path)
    assert SecretStore.load(tmp_path).get("a") == VALUE


def test_load_refuses_missing_or_exposed_key(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="missing"):
        SecretStore.load(tmp_path)
    SecretStore.create(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        SecretStore.load(tmp_path)


def test_tampered_ciphertext_is_detected_without_the_value(tmp_path: Path) -> None:
    SecretStore.create(tmp_path).put("a", VALUE)
    path = tmp_path / SECRETS_FILE
    document = json.loads(path.read_text())
    sealed = bytearray(base64.b64decode(document["secrets"]["a"]["ciphertext"]))
    sealed[0] ^= 1
    document["secrets"]["a"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(SecretError, match="altered") as caught:
        SecretStore.load(tmp_path)
    _no_value_in(caught.value)


def test_a_value_moved_to_another_name_is_detected(tmp_path: Path) -> None:
    store = SecretStore.create(tmp_path)
    store.put("a", VALUE)
    store.put("b", "other")
    path = tmp_path / SECRETS_FILE
    document = json.loads(path.read_text())
    document["secrets"]["b"] = document["secrets"]["a"]
    path.write_text(json.dumps(document))
    with pytest.raises(SecretError, match="'b' cannot be decrypted") as caught:
        store.get("b")
    _no_value_in(caught.value)


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 2, "secrets": {}}', '{"version": 1}'])
def test_a_broken_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    SecretStore.create(tmp_path)
    (tmp_path / SECRETS_FILE).write_text(text)
    with pytest.raises(SecretError, match=SECRETS_FILE):
        SecretStore.load(tmp_path)


def test_wrong_key_is_detected_without_the_value(tmp_path: Path) -> None:
    SecretStore.create(tmp_path / "one").put("a", VALUE)
    SecretStore.create(tmp_path / "two")
    (tmp_path / "two" / SECRETS_FILE).write_bytes((tmp_path / "one" / SECRETS_FILE).read_bytes())
    with pytest.raises(SecretError, match="not the key") as caught:
        SecretStore.load(tmp_path / "two")
    _no_value_in(caught.value)


@pytest.mark.parametrize("name", ["", "Upper", "-lead", "a/b", "a b", "x" * 65, "ü"])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    store = SecretStore.create(tmp_path)
    with pytest.raises(SecretError, match="invalid secret name") as caught:
        store.put(name, VALUE)
    _no_value_in(caught.value)
    assert store.names() == []


def test_longest_valid_name(tmp_path: Path) -> None:
    store = SecretStore.create(tmp_path)
    store.put("a" * 64, VALUE)
    assert store.get("a" * 64) == VALUE


@pytest.mark.parametrize("text", [VALUE, "secret:", "secret:UPPER", "secret:" + VALUE])
def test_a_value_where_a_reference_belongs_is_not_repeated(text: str) -> None:
    with pytest.raises(SecretError) as caught:
        SecretRef.parse(text)
    _no_value_in(caught.value, text if text != "secret:" else "\0")
