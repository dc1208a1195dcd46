"""Rendering pages: one Jinja2 environment per language, the page context, security headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from allmende import __version__
from allmende.accounts.rules import can_administer, can_change
from allmende.accounts.service import SignedIn
from allmende.web.i18n import LANGUAGE_NAMES, LANGUAGES, Formats, translations

if TYPE_CHECKING:
    from jinja2 import Environment

# The pages load scripts and styles only from this node; HTMX runs with its inline styles off.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue; it is translated where it is shown (``_()`` in templates)."""
    return message


@cache
def environment(language: str) -> Environment:
    """The template environment of ``language`` with gettext installed (cached per language).

    Jinja2 is imported on the first page rendered, not when the node starts (start-up time).
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("allmende.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["version"] = __version__
    env.globals["language_names"] = LANGUAGE_NAMES
    env.globals["languages"] = LANGUAGES
    return env


@dataclass(frozen=True)
class Page:
    """What every page knows about its request: who is signed in, the language and its formats."""

    user: SignedIn | None
    language: str
    formats: Formats
    path: str
    node_name: str

    @property
    def can_change(self) -> bool:
        return self.user is not None and can_change(self.user.role)

    @property
    def can_administer(self) -> bool:
        return self.user is not None and can_administer(self.user.role)

    @property
    def csrf_token(self) -> str:
        return self.user.csrf_token if self.user is not None else ""

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)


def page_of(request: Request) -> Page:
    page = getattr(request.state, "page", None)
    if not isinstance(page, Page):
        raise RuntimeError("the page context is set by the web auth dependencies")
    return page


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    page: Page | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` for the request's language with the page context as ``page``."""
    page = page or page_of(request)
    values: dict[str, Any] = {"page": page, "fmt": page.formats, "request_path": page.path}
    values.update(context or {})
    html = environment(page.language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    if headers:
        response.headers.update(headers)
    return response
