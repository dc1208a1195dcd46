"""The web interface's pages, one module per page group."""
