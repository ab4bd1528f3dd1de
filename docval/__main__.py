"""``python -m docval`` runs the CLI, so tests and scripts need no console script on PATH."""

from docval.cli import main

main()
