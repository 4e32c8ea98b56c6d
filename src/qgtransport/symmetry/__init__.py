"""Crystal symmetry: magnetic point groups, the irreducible k-points of a uniform grid with their
weights, the symmetrisation of response tensors and the diagnostics of how far a model breaks a
group (docs/symmetry.md).

Stage: after the models and the band data, before the responses, the engine and compute (it knows no
response: compute hands it each response's transformation rule).
"""

from qgtransport.symmetry.check import ENERGY_TOL, SymmetryCheck, check, require
from qgtransport.symmetry.group import Group, SymmetryError, as_group, group_from_generators, generators_of
from qgtransport.symmetry.kpoints import IrreducibleGrid, irreducible_points, reduced_operations, star
from qgtransport.symmetry.tensors import Rule, Symmetry, forbidden_components, transform

__all__ = ["ENERGY_TOL", "Group", "IrreducibleGrid", "Rule", "Symmetry", "SymmetryCheck", "SymmetryError", "as_group",
           "check", "forbidden_components", "generators_of", "group_from_generators", "irreducible_points",
           "reduced_operations", "require", "star", "transform"]
