"""Crystal symmetry: magnetic point groups, the irreducible k-points of a uniform grid with their
weights, the symmetrisation of response tensors and the diagnostics of how far a model breaks a
group (docs/symmetry.md).

Stage: after the models and the band data, before the responses, the engine and compute (it knows no
response: compute hands it each response's transformation rule).
"""

from qgtransport.symmetry.check import CURVATURE_TOL, ENERGY_TOL, SymmetryCheck
from qgtransport.symmetry.choose import as_group, auto_group, check, require
from qgtransport.symmetry.group import Group, SymmetryError, generators_of, group_from_generators
from qgtransport.symmetry.kpoints import IrreducibleGrid, irreducible_points, reduced_operations, star
from qgtransport.symmetry.structure import BUILTIN_GROUPS, crystal_group
from qgtransport.symmetry.tensors import Rule, Symmetry, forbidden_components, transform

__all__ = ["BUILTIN_GROUPS", "CURVATURE_TOL", "ENERGY_TOL", "Group", "IrreducibleGrid", "Rule", "Symmetry",
           "SymmetryCheck", "SymmetryError", "as_group", "auto_group", "check", "crystal_group",
           "forbidden_components", "generators_of", "group_from_generators", "irreducible_points",
           "reduced_operations", "require", "star", "transform"]
