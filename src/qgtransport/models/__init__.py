"""Models: the TightBinding container and the built-in models."""

from qgtransport.models.builtin import BUILTIN_MODELS, builtin_model
from qgtransport.models.tightbinding import TightBinding

__all__ = ["TightBinding", "BUILTIN_MODELS", "builtin_model"]
