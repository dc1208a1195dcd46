"""Commands about usage policies: the templates and plain-language rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console

from allmende.cli.context import JsonOption, fail, print_json
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.policy.templates import TEMPLATES

app = typer.Typer(help="Usage policies (ODRL): templates and plain-language text.", no_args_is_help=True)
console = Console()


_OWNER = "did:web:owner.example"
_TARGET = "urn:uuid:00000000-0000-0000-0000-000000000000"


def _language(lang: str) -> Literal["en", "de"]:
    if lang not in ("en", "de"):
        fail("--lang must be 'en' or 'de'")
    return "de" if lang == "de" else "en"


@app.command("templates")
def templates(lang: str = typer.Option("en", "--lang", help="en or de"), as_json: bool = JsonOption) -> None:
    """List the policy templates with their plain-language text."""
    language = _language(lang)
    items = [
        {
            "name": t.name,
            "title": t.title_de if language == "de" else t.title_en,
            "summary": t.summary_de if language == "de" else t.summary_en,
            # the first line names assigner and target, which a template does not have yet
            "text": "\n".join(
                render_policy(t.build(_OWNER, _TARGET, **_EXAMPLES.get(t.name, {})), language).splitlines()[
                    1:
                ]
            ),
        }
        for t in TEMPLATES.values()
    ]
    if as_json:
        print_json(items)
        return
    for item in items:
        console.print(f"[bold]{item['name']}[/bold] — {item['title']}")
        console.print(f"  {item['summary']}")
        for line in item["text"].splitlines():
            console.print(f"    {line}")
        console.print()


_EXAMPLES = {"members-only": {"community": "did:web:verband.example"}}
"""Example values for the parameters a template cannot do without, to show its text."""


@app.command("show")
def show(
    file: Path = typer.Argument(..., help="A JSON file with an ODRL policy (DSP compact form)."),
    lang: str = typer.Option("en", "--lang", help="en or de"),
    as_json: bool = JsonOption,
) -> None:
    """Render any ODRL policy in plain German or English."""
    language = _language(lang)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file} is not valid JSON: {exc}")
    if not isinstance(data, dict):
        fail(f"{file} must hold one JSON object (an ODRL policy)")
    try:
        text = render_policy(policy_from_json(data), language)
    except PolicyError as exc:
        fail(f"{file} is not a valid ODRL policy: {exc}")
    if as_json:
        print_json({"lang": language, "text": text})
    else:
        console.print(text)
