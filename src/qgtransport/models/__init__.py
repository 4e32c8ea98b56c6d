"""Models: the TightBinding container, the built-in models and the file readers."""

from qgtransport.models.builtin import BUILTIN_MODELS, builtin_model
from qgtransport.models.modelfile import read_model, write_model
from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding
from qgtransport.models.wannier90 import read_hr, read_tb, read_tb_positions

__all__ = ["TightBinding", "BUILTIN_MODELS", "builtin_model", "ModelFileError", "read_hr", "read_tb",
           "read_tb_positions", "read_model", "write_model"]
