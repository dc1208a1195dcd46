"""The colour pairs of the stylesheet meet WCAG 2.1 AA contrast (4.5:1 for text)."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

CSS = files("allmende.web").joinpath("static", "app.css").read_text(encoding="utf-8")
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    colour = VARIABLES.get(colour.removeprefix("--"), colour)
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


TEXT_PAIRS = [
    ("--ink", "--paper"),
    ("--muted", "--paper"),
    ("--ink", "--panel"),
    ("--link", "--paper"),
    ("--brand-ink", "--brand"),
    ("--brand", "--paper"),  # secondary buttons
    ("--danger", "--paper"),
    ("#ffffff", "--danger"),
    ("--ink", "#e6ecef"),  # navigation
    ("--danger", "#fbe9ea"),  # alert
    ("--ink", "#e8f4ea"),  # notice
    ("#14471f", "#d6eedc"),  # badges
    ("#6d0f12", "#f6d5d7"),
    ("#5c3c00", "--warn-bg"),
    ("--ink", "#dde3e8"),
]


@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_contrast_is_at_least_4_5(foreground: str, background: str) -> None:
    assert contrast(foreground, background) >= 4.5


def test_focus_ring_is_visible_on_dark_and_light_backgrounds() -> None:
    # Non-text contrast (WCAG 1.4.11) is 3:1. The ring is yellow (visible on the dark header) with a
    # dark halo around it (visible on white).
    rule = re.search(r":focus-visible\s*\{([^}]*)\}", CSS)
    assert rule is not None
    assert "outline: 3px solid var(--focus)" in rule.group(1)
    assert "var(--ink)" in rule.group(1)
    assert contrast("--focus", "--brand") >= 3
    assert contrast("--ink", "--paper") >= 3
