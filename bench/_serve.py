"""Bench launcher: ``python -m bench._serve DATA_DIR [--port N]`` (what ``allmende serve`` runs, no CLI).

Creates a node in ``DATA_DIR`` if there is none yet (public URL ``http://127.0.0.1:PORT``), then
serves it with uvicorn on 127.0.0.1 until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._serve")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--port", type=int, default=None, help="needed only when the node is created")
    parser.add_argument("--name", default="Bench node")
    args = parser.parse_args(argv)

    from allmende.node import Node
    from allmende.serving import prepare, serve
    from allmende.settings import SETTINGS_FILE, load_settings

    data_dir: Path = args.data_dir.expanduser().resolve()
    if not (data_dir / SETTINGS_FILE).exists():
        if args.port is None:
            parser.error("--port is needed to create a node")
        # Imported only here: setup_node pulls in alembic (~0.4 s of imports) that serving never needs.
        from allmende.setup_node import init_node

        init_node(data_dir, name=args.name, public_url=f"http://127.0.0.1:{args.port}", port=args.port)
    settings = load_settings(data_dir)
    node = Node(settings)
    prepare(node)
    serve(node, "127.0.0.1", int(settings.port))


if __name__ == "__main__":
    main()
