"""The settings table: documented, validated, overridable from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allmende.settings import SETTINGS, SettingsError, load_settings, validate_values, write_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    assert f"`{setting.name}`" in DOCS.read_text(encoding="utf-8")  # type: ignore[attr-defined]


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        validate_values({"prot": 1})


def test_bad_values_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="port: expected a number"):
        validate_values({"port": "eighty"})
    with pytest.raises(SettingsError, match="between 1 and 300"):
        validate_values({"token_ttl_seconds": 3600})
    with pytest.raises(SettingsError, match="review_all_requests: expected true or false"):
        validate_values({"review_all_requests": "maybe"})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write_settings(tmp_path, {"name": "A", "public_url": "http://127.0.0.1:1", "port": 1})
    settings = load_settings(
        tmp_path, environ={"ALLMENDE_PORT": "9000", "ALLMENDE_REVIEW_ALL_REQUESTS": "yes"}
    )
    assert settings.port == 9000
    assert settings.review_all_requests is True
    assert settings.catalog_page_size == 100  # default


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="run `allmende init` first"):
        load_settings(tmp_path, environ={})
    (tmp_path / "node.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_settings(tmp_path, environ={})
    (tmp_path / "node.json").write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(SettingsError, match="JSON object"):
        load_settings(tmp_path, environ={})
