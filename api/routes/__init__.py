"""Route modules of the HTTP API, one per resource; each exposes ``router``."""
