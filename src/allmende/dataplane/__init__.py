"""The data plane: serving asset files over HTTP (provider) and downloading them (consumer)."""
