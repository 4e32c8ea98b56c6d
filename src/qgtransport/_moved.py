"""Old module paths of qgtransport 0.1 (before the subpackages), kept importable with a DeprecationWarning.

`import qgtransport.geometry` (or `from qgtransport.geometry import band_geometry`) returns the module
`qgtransport.bands.geometry` itself, not a copy: the same functions and constants, and a monkeypatch
through the old name patches the real module. No file sits at the old paths (a finder on sys.meta_path
maps the names), so that edits made elsewhere to the old files follow them to their new place.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "qgtransport.geometry": "qgtransport.bands.geometry",
    "qgtransport.occupation": "qgtransport.bands.occupation",
    "qgtransport.integrate": "qgtransport.engine.integrate",
    "qgtransport.backend": "qgtransport.engine.backend",
    "qgtransport.spectral": "qgtransport.engine.spectral",
    "qgtransport.refine": "qgtransport.engine.refine",
    "qgtransport.executors": "qgtransport.engine.executors",
    "qgtransport.checkpoint": "qgtransport.engine.checkpoint",
    "qgtransport.exact_orders": "qgtransport.exact.orders",
    "qgtransport.verify": "qgtransport.exact.verify",
    "qgtransport.density": "qgtransport.exact.density",
    "qgtransport.config": "qgtransport.cli.config",
    "qgtransport.cli_run": "qgtransport.cli.run",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old names of MOVED and loads them as the module at the new path."""

    def __init__(self):
        self.specs = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} is now {new}; the old path will be removed in a future version",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self.specs[new] = module.__spec__
        return module

    def exec_module(self, module):
        # the module at the new path is already executed; the import system gave it the alias's
        # spec (module.__spec__ is always set): give it its own back
        module.__spec__ = self.specs[module.__name__]


def install() -> None:
    """Put the finder on sys.meta_path (once)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
