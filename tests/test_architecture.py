"""The folders show the pipeline (docs/architecture.md): data flows one way, from the models up to
the command line, and no module imports a later stage or forms an import cycle; no module is over 600
lines unless its docstring says why ("Size: ...")."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "qgtransport"

# bottom to top; within a stage only the modules of the compute stage use one another
STAGES = [
    {"files"},
    {"models"},
    {"bands"},
    {"symmetry"},
    {"responses", "engine"},
    {"compute", "options", "cost", "results", "units", "entropy_density", "convergence"},
    {"exact", "relations"},
    {"report"},
    {"cli"},
]
SHARED_STAGE = 5
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


MAX_LINES = 600
# Modules allowed over MAX_LINES while another branch splits them; the lead removes each entry once
# its split is merged (a long module otherwise says why it is one piece in a "Size:" docstring line).
SIZE_ALLOWED: set[str] = set()


def size_reason(path: Path) -> bool:
    """Whether the module docstring has a line starting with "Size:" (why the module is one piece)."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return any(line.strip().startswith("Size:") for line in docstring.splitlines())


def test_no_module_is_long_without_a_reason():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and module_name(path) not in SIZE_ALLOWED and not size_reason(path):
            long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert not long, (f"modules over {MAX_LINES} lines without a 'Size:' line in their docstring saying why they "
                      "are one piece (or split them):\n" + "\n".join(long))
