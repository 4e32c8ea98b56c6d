"""The group of a call: from what the user gives (None, "auto", generator names, matrices, a Group),
and the checks of a model against it by any of these."""

from __future__ import annotations

from qgtransport.symmetry.check import CURVATURE_TOL, ENERGY_TOL, SymmetryCheck, check_group, require_group
from qgtransport.symmetry.group import Group, SymmetryError, group_from_generators
from qgtransport.symmetry.structure import BUILTIN_GROUPS, crystal_group


def auto_group(model, magnetic_moments=None) -> Group:
    """The group of the model: the one a built-in model declares (less what its parameters break), else
    spglib's from the crystal structure (`qgtransport.symmetry.structure`)."""
    if getattr(model, "name", None) in BUILTIN_GROUPS and magnetic_moments is None:
        declared = group_from_generators(list(BUILTIN_GROUPS[model.name]))
        return check_group(model, declared).respected
    return crystal_group(model, magnetic_moments)


def as_group(symmetry, model=None) -> Group | None:
    """None -> None; a Group -> itself; "auto" -> `auto_group(model)`; names or pairs -> their group."""
    if symmetry is None or isinstance(symmetry, Group):
        return symmetry
    if isinstance(symmetry, str) and symmetry.strip().lower() == "auto":
        if model is None:
            raise SymmetryError('symmetry="auto" needs the model')
        return auto_group(model)
    if isinstance(symmetry, str) and symmetry.strip().lower() in ("none", ""):
        return None
    return group_from_generators(symmetry)


def check(model, group, energy_tol: float = ENERGY_TOL, curvature_tol: float = CURVATURE_TOL,
          **options) -> SymmetryCheck:
    """How far the model breaks each operation of the group (given as `as_group` takes it;
    `qgtransport.symmetry.check.check_group`)."""
    found = as_group(group, model)
    if found is None:
        raise SymmetryError("no group to check")
    return check_group(model, found, energy_tol=energy_tol, curvature_tol=curvature_tol, **options)


def require(model, group) -> SymmetryCheck:
    """check(), raising a SymmetryError naming every operation the model breaks and by how much."""
    return require_group(model, as_group(group, model))
