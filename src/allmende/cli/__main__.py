"""``python -m allmende.cli``."""

from allmende.cli.main import main

main()
