"""The tutorials run as written and print what they say they print; the links of every page lead
somewhere.

Each tutorial in docs/tutorials/ is a sequence of ```python blocks, each followed by a ```text block
with its output. The blocks run in order in one namespace, in a temporary folder (they write
figures); every number printed must match the number in the text block to 1e-3 relative (last
digits may differ between BLAS builds), and the words must match exactly. A block whose first line
is "# requires: PACKAGE" (an optional package: PythTB, TBmodels) is left out, and said so, where the
package is not installed.

The API page renders numpydoc: every parameter of the documented functions has a type and a
description in their slots; the pages render formulas (pymdownx.arithmatex).

Links: every relative link of a page names a page that exists and, after #, a heading of it; the
architecture page's names of modules and objects (`qgtransport.x.y`) import, and its paths exist.
"""

import contextlib
import importlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```\n\n```text\n(.*?)```", re.S)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


REQUIRES = re.compile(r"\A# requires: ([\w.]+)")


def missing_package(code: str) -> str | None:
    """The optional package a block needs (its first line "# requires: name") if it is not installed."""
    import importlib.util

    match = REQUIRES.match(code)
    return match.group(1) if match and importlib.util.find_spec(match.group(1)) is None else None


def run_blocks(path: Path):
    """[(code, expected output, actual output)] of a tutorial, run in the current folder; the actual
    output of a block whose optional package is missing is None."""
    namespace: dict = {"__name__": "__tutorial__"}
    results = []
    for code, expected in BLOCK.findall(path.read_text(encoding="utf-8")):
        if missing_package(code):
            results.append((code, expected, None))
            continue
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"{path.name}", "exec"), namespace)  # noqa: S102 - our own documentation
        results.append((code, expected, buffer.getvalue()))
    return results


def same_output(expected: str, actual: str, rtol: float = 1e-3, atol: float = 1e-12) -> bool:
    if NUMBER.sub("#", expected).split() != NUMBER.sub("#", actual).split():
        return False
    pairs = zip(NUMBER.findall(expected), NUMBER.findall(actual), strict=True)
    return all(abs(float(a) - float(b)) <= atol + rtol * abs(float(a)) for a, b in pairs)


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_prints_what_it_says(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = run_blocks(path)
    assert results, f"{path.name} has no python block with its output"
    for code, expected, actual in results:
        if actual is None:
            continue
        assert same_output(expected, actual), f"{path.name}:\n{code}\nexpected:\n{expected}\ngot:\n{actual}"
    left_out = sorted({missing_package(code) for code, _, actual in results if actual is None})
    if left_out:
        pytest.skip(f"{path.name}: the blocks that need {', '.join(left_out)} were left out (not installed); "
                    "the others ran and printed what they say")


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set:
    """The anchors mkdocs' toc gives the headings of a page (lowercase, words joined by -)."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_relative_links_lead_to_a_page_and_heading(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_file(), f"{page.name}: link to missing {target}"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {linked.name}"


def resolve(name: str):
    """A module or an object from its dotted name (qgtransport.responses.kernels.Block)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(name)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the page names the old paths too
def test_architecture_names_modules_and_paths_that_exist():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    names = set(re.findall(r"`(qgtransport(?:\.\w+)+)`", text))
    assert len(names) > 20
    for name in names:
        resolve(name)
    paths = set(re.findall(r"`((?:src|tests|benchmarks)/[\w/.<>-]+)`", text))
    assert paths
    for path in paths:
        if "<" not in path:
            assert (ROOT / path).exists(), path
    for stage in ("models", "bands", "responses", "engine", "exact", "report", "cli"):
        assert (ROOT / "src" / "qgtransport" / stage / "__init__.py").is_file()


def fill(path: Path) -> None:  # pragma: no cover - run by hand after editing a tutorial
    """Rewrite the text blocks of a tutorial with what its code prints (python tests/test_docs.py)."""
    text = path.read_text(encoding="utf-8")
    outputs = iter(actual if actual is not None else expected for _, expected, actual in run_blocks(path))
    path.write_text(BLOCK.sub(lambda m: f"```python\n{m.group(1)}```\n\n```text\n{next(outputs)}```", text),
                    encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    for tutorial in TUTORIALS:
        with tempfile.TemporaryDirectory() as folder:
            here = os.getcwd()
            os.chdir(folder)
            try:
                fill(tutorial)
            finally:
                os.chdir(here)
        print(f"filled {tutorial}")


def documented_objects():
    """Every function and class the API page documents, with their members (griffe, as mkdocstrings)."""
    import logging

    import griffe

    logging.getLogger("griffe").setLevel(logging.ERROR)
    package = griffe.load("qgtransport", search_paths=[str(ROOT / "src")])
    names = re.findall(r"^::: (\S+)", (DOCS / "api.md").read_text(encoding="utf-8"), re.M)
    assert len(names) > 20

    def walk(obj):
        yield obj
        if obj.is_module or obj.is_class:
            for member in obj.members.values():
                if not member.is_alias and not member.name.startswith("_"):
                    yield from walk(member)

    for name in names:
        yield from walk(package[name.removeprefix("qgtransport.")])


def test_api_page_renders_numpydoc_parameters_in_their_slots():
    """numpydoc as mkdocstrings reads it: "name : type" then the description indented below. A
    description written on the type line shows as the type (and the next parameter's default as
    this one's); a parameter the signature lacks is a slip."""
    problems = []
    for obj in documented_objects():
        if not obj.docstring:
            continue
        signature = [p.name for p in obj.parameters] if getattr(obj, "parameters", None) else None
        for section in obj.docstring.parse("numpy"):
            if section.kind.value not in ("parameters", "other parameters"):
                continue
            for parameter in section.value:
                kind = str(parameter.annotation or "")
                if signature is not None and parameter.name.lstrip("*") not in [s.lstrip("*") for s in signature]:
                    problems.append(f"{obj.path}: {parameter.name} is not in the signature")
                if len(kind) > 60 or kind.rstrip().endswith((".", ":")) or len(kind.split()) > 9:
                    problems.append(f"{obj.path}: {parameter.name}: a description in the type slot: {kind[:50]!r}")
                if not parameter.description.strip():
                    problems.append(f"{obj.path}: {parameter.name} has no description")
    assert not problems, "\n".join(problems)


def test_pages_render_formulas():
    """Formulas are written \\( \\), $ $ or $$ $$ and rendered by MathJax through pymdownx.arithmatex."""
    import markdown
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", "#"))
    extensions = [e if isinstance(e, str) else next(iter(e)) for e in config["markdown_extensions"]]
    assert "pymdownx.arithmatex" in extensions
    assert any("mathjax" in script for script in config["extra_javascript"])
    assert (DOCS / "javascripts" / "mathjax.js").is_file()
    converter = markdown.Markdown(extensions=["pymdownx.arithmatex", "tables"],
                                  extension_configs={"pymdownx.arithmatex": {"generic": True}})
    for page in ("physics.md", "tutorials/own_model.md"):
        rendered = converter.convert((DOCS / page).read_text(encoding="utf-8"))
        assert rendered.count('class="arithmatex"') >= 5, page
