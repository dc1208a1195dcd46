"""The node's secret store: named values encrypted at rest with AES-256-GCM.

A folder holds ``secret.key`` (32 random bytes, mode 0600) and ``secrets.json``::

    {"version": 1, "secrets": {"NAME": {"nonce": "<base64>", "ciphertext": "<base64>"}}}

Each value is encrypted with a fresh random 96-bit nonce and the secret's name as associated data, so
a value moved to another name, an edited file or a different key is detected (:class:`SecretError`).
Asset configurations store a :class:`SecretRef` (``"secret:NAME"``), never the value. The file is
re-read on every call, so a CLI and a running node see each other's changes; writes are atomic.
No error message, log line or ``repr`` ever contains a secret value or the key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from allmende.sources.errors import SecretError, SecretNotFound

KEY_FILE = "secret.key"
SECRETS_FILE = "secrets.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_REF_PREFIX = "secret:"
_MAX_VALUE_BYTES = 64 * 1024


def check_secret_name(name: str) -> str:
    """``name`` when it is a valid secret name (``[a-z0-9][a-z0-9._-]{0,63}``), else SecretError."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        shown = repr(name[:80]) if isinstance(name, str) else type(name).__name__
        raise SecretError(
            f"invalid secret name {shown}: use 1-64 of a-z, 0-9, '.', '_', '-', starting with a-z or 0-9"
        )
    return name


@dataclass(frozen=True)
class SecretRef:
    """A reference to a stored secret, as asset configurations hold it: ``"secret:NAME"``."""

    name: str

    def __post_init__(self) -> None:
        check_secret_name(self.name)

    def __str__(self) -> str:
        return _REF_PREFIX + self.name

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """The reference written as ``"secret:NAME"``; SecretError for anything else.

        The message never repeats ``text``: a value pasted where a reference belongs stays unshown.
        """
        if not isinstance(text, str) or not text.startswith(_REF_PREFIX):
            raise SecretError("a secret reference must be written 'secret:NAME' (what was given isn't shown)")
        name = text[len(_REF_PREFIX) :]
        if _NAME.fullmatch(name) is None:
            raise SecretError("a secret reference must be written 'secret:NAME' with a valid NAME")
        return cls(name)


class SecretStore:
    """Named secrets in ``folder``; open one with :meth:`create` (new folder) or :meth:`load`."""

    def __init__(self, folder: Path, key: bytes) -> None:
        if len(key) != 32:
            raise SecretError("the secret store key must be 256 bits (32 bytes)")
        self.folder = folder
        self._aead = AESGCM(key)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretStore({str(self.folder)!r})"

    @classmethod
    def create(cls, folder: Path) -> SecretStore:
        """Make a new random key in ``folder`` (created 0700 if missing); refuse if a key is there."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        try:
            fd = os.open(folder / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise SecretError(f"{folder / KEY_FILE} exists: refusing to replace a secret store key") from None
        with os.fdopen(fd, "wb") as out:
            out.write(key)
            out.flush()
            os.fsync(out.fileno())
        store = cls(folder, key)
        if not (folder / SECRETS_FILE).exists():
            store._write({})
        return store

    @classmethod
    def load(cls, folder: Path) -> SecretStore:
        """Open the store in ``folder``; every stored value is checked to decrypt with its key."""
        path = folder / KEY_FILE
        try:
            mode = path.stat().st_mode
            key = path.read_bytes()
        except FileNotFoundError:
            raise SecretError(f"{path} is missing: create the secret store first") from None
        except OSError as exc:
            raise SecretError(f"{path} cannot be read: {exc.strerror}") from None
        if stat.S_IMODE(mode) & 0o077:
            raise SecretError(f"{path} is readable by others: run 'chmod 600 {path}'")
        if len(key) != 32:
            raise SecretError(f"{path} does not hold a 256-bit key")
        store = cls(folder, key)
        for name, entry in store._read().items():
            store._decrypt(name, entry)
        return store

    def put(self, name: str, value: str) -> SecretRef:
        """Store ``value`` under ``name`` (replacing any earlier value); the reference to keep."""
        check_secret_name(name)
        if not isinstance(value, str):
            raise SecretError(f"secret {name!r}: the value must be a string")
        data = value.encode("utf-8")
        if len(data) > _MAX_VALUE_BYTES:
            raise SecretError(f"secret {name!r}: the value is longer than {_MAX_VALUE_BYTES} bytes")
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, data, name.encode("ascii"))
        entry = {"nonce": _b64(nonce), "ciphertext": _b64(sealed)}
        with self._lock:
            entries = self._read()
            entries[name] = entry
            self._write(entries)
        return SecretRef(name)

    def get(self, name: str | SecretRef) -> str:
        """The value stored under ``name``; SecretNotFound if none, SecretError if it fails to decrypt."""
        key = name.name if isinstance(name, SecretRef) else check_secret_name(name)
        entries = self._read()
        if key not in entries:
            raise SecretNotFound(f"no secret named {key!r}")
        return self._decrypt(key, entries[key])

    def delete(self, name: str) -> None:
        """Remove the secret ``name``; SecretNotFound if there is none."""
        check_secret_name(name)
        with self._lock:
            entries = self._read()
            if name not in entries:
                raise SecretNotFound(f"no secret named {name!r}")
            del entries[name]
            self._write(entries)

    def names(self) -> list[str]:
        """The names of the stored secrets, sorted."""
        return sorted(self._read())

    def _decrypt(self, name: str, entry: dict[str, str]) -> str:
        try:
            nonce = base64.b64decode(entry["nonce"], validate=True)
            sealed = base64.b64decode(entry["ciphertext"], validate=True)
            return self._aead.decrypt(nonce, sealed, name.encode("ascii")).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, KeyError):
            raise SecretError(
                f"secret {name!r} cannot be decrypted: {self.folder / SECRETS_FILE} was altered "
                f"or {KEY_FILE} is not the key it was written with"
            ) from None

    def _read(self) -> dict[str, dict[str, str]]:
        path = self.folder / SECRETS_FILE
        try:
            document: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise SecretError(f"{path} cannot be read as the secret store's JSON file") from None
        entries = document.get("secrets") if isinstance(document, dict) else None
        if (
            not isinstance(entries, dict)
            or document.get("version") != 1
            or not all(
                isinstance(name, str)
                and _NAME.fullmatch(name)
                and isinstance(entry, dict)
                and isinstance(entry.get("nonce"), str)
                and isinstance(entry.get("ciphertext"), str)
                for name, entry in entries.items()
            )
        ):
            raise SecretError(f"{path} is not a version 1 secret store file (was it altered?)")
        return entries

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        path = self.folder / SECRETS_FILE
        temporary = self.folder / f".{SECRETS_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        text = json.dumps({"version": 1, "secrets": entries}, indent=2, sort_keys=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
