"""The `qgt` command line and the validated TOML run configuration. The entry point is
`qgtransport.cli:main` (the click group)."""

from qgtransport.cli.commands import main

__all__ = ["main"]
