"""``python -m matcher.cli.main``."""

from matcher.cli.main import run

run()
