"""Deprecated: the figures of `qgtransport.plot` are now in `qgtransport.report.figures` (responses
against mu, T and omega) and `qgtransport.report.kspace` (band structure, Brillouin-zone maps).
Every name of the former module is still found here, with a DeprecationWarning."""

import warnings

from qgtransport.report import figures as _figures
from qgtransport.report import kspace as _kspace

warnings.warn("qgtransport.plot is now qgtransport.report.figures and qgtransport.report.kspace; the old path "
              "will be removed in a future version", DeprecationWarning, stacklevel=2)


def __getattr__(name):
    for module in (_figures, _kspace):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'qgtransport.plot' has no attribute {name!r}")
