"""The message catalogue: which texts the interface shows and which lack a translation.

``python -m allmende.web.catalogue`` prints every English text that has no German translation yet,
as ``.po`` entries ready to paste into a file in ``locale/de/``. A test fails while any is missing.
"""

from __future__ import annotations

import sys
from importlib.resources import as_file, files
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from allmende.web.i18n import merged_catalogue

# Page code marks texts with N_() or translates them at once with page.gettext() or t();
# account rules carry theirs in FieldProblem(field, message).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "t": None,
    "FieldProblem": (2,),
    "WebDenied": (2,),
    "error_page": (3,),
}
_METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
_OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
PACKAGES = ("allmende.web", "allmende.accounts")


def extract_messages() -> dict[str, list[str]]:
    """Every msgid used by the interface, with the places (``file:line``) that use it."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        with as_file(files(package)) as folder:
            for filename, line, message, _comments, _context in extract_from_dir(
                str(folder), _METHODS, keywords=KEYWORDS, options_map=_OPTIONS
            ):
                msgids = message if isinstance(message, tuple) else (message,)
                for msgid in msgids:
                    if msgid:
                        found.setdefault(msgid, []).append(f"{package}:{filename}:{line}")
    return found


def untranslated(language: str = "de") -> dict[str, list[str]]:
    """The msgids without a (non-empty) translation in ``language``."""
    catalogue = merged_catalogue(language)
    missing: dict[str, list[str]] = {}
    for msgid, places in extract_messages().items():
        entry = catalogue.get(msgid)
        if entry is None or not entry.string:
            missing[msgid] = places
    return missing


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    missing = untranslated("de")
    for msgid, places in sorted(missing.items(), key=lambda item: item[1][0]):
        print(f"#: {' '.join(Path(p).name for p in places[:3])}")
        print(f"msgid {_po_string(msgid)}")
        print('msgstr ""\n')
    print(f"# {len(missing)} texts without a German translation", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
