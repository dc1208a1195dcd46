"""The web interface: server-rendered pages (Jinja2, vendored HTMX), German and English."""
