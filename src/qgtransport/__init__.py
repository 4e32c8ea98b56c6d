"""qgtransport: quantum-geometric transport of Bloch electrons, entropy production and entropy
currents (Xiang, Jia & Wang), with the corrections of ERRATA.md."""

__version__ = "0.1.0"

from qgtransport import _moved  # noqa: E402  (old module paths, deprecated)

_moved.install()

from qgtransport.compute import compute  # noqa: E402
from qgtransport.exact.density import perturbed_density_matrix  # noqa: E402
from qgtransport.models import BUILTIN_MODELS, TightBinding, builtin_model  # noqa: E402
from qgtransport.results import open_dataset  # noqa: E402

__all__ = ["TightBinding", "BUILTIN_MODELS", "builtin_model", "compute", "perturbed_density_matrix", "open_dataset",
           "report", "__version__"]


def __getattr__(name):
    """`qgtransport.report` (the report subpackage, callable: `qgtransport.report(ds, model, folder)`)
    is imported on first use: it brings matplotlib."""
    if name == "report":
        import importlib

        return importlib.import_module("qgtransport.report")
    raise AttributeError(f"module 'qgtransport' has no attribute {name!r}")
