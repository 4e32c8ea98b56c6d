"""The folders show the pipeline (docs/architecture.md): data flows one way, from the models up to
the command line, and no module imports a later stage or forms an import cycle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "qgtransport"

# bottom to top; within a stage only the modules of the compute stage use one another
STAGES = [
    {"models"},
    {"bands"},
    {"symmetry"},
    {"responses", "engine"},
    {"compute", "options", "results", "units", "entropy_density", "convergence"},
    {"exact", "relations"},
    {"report"},
    {"cli"},
]
SHARED_STAGE = 4
EXEMPT = {"qgtransport", "qgtransport._moved", "qgtransport.plot"}  # the package's face and the old paths


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every qgtransport module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("qgtransport")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qgtransport"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if is_module(candidate) else node.module)
    return found


def is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative / "__init__.py").is_file()


def stage(name: str) -> int:
    top = name.split(".")[1]
    return next(i for i, group in enumerate(STAGES) if top in group)


def graph() -> dict:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_belongs_to_a_stage():
    for name in graph():
        if name not in EXEMPT:
            stage(name)


def test_no_module_imports_a_later_stage():
    wrong = []
    for name, targets in graph().items():
        if name in EXEMPT:
            continue
        for target in targets - EXEMPT:
            here, there = stage(name), stage(target)
            sibling = there == here and name.split(".")[1] != target.split(".")[1] and here != SHARED_STAGE
            if there > here or sibling:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the pipeline:\n" + "\n".join(wrong)


def test_no_import_cycle():
    """(`from qgtransport import __version__` reads the package's face: not an edge.)"""
    edges = {name: targets - {"qgtransport"} for name, targets in graph().items()}
    state: dict = {}

    def visit(node, path):
        state[node] = "open"
        for target in edges.get(node, ()):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in edges:
        if node not in state:
            visit(node, [node])
