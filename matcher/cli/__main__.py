"""``python -m matcher.cli``."""

from matcher.cli.main import main

main()
