"""Values written by hand: numbers as text, shared by the command line and the run configuration
("1.5", "pi/2", "-2*pi/3", "sqrt(3)/2"; `evaluate_number`), scans (a number, a list, an inclusive
range "start:stop:num" or {start, stop, num}; `scan_values`), and the pydantic value types of the
configuration file built on the option types of `qgtransport.options` (numbers that may be
expressions, paths relative to the file, Wannier90 companions, lists of names, matrices). Errors
are ValueErrors that say what to write.
"""

from __future__ import annotations

import ast
import math
import operator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, ValidationInfo

from qgtransport import options as O
from qgtransport.cost import check_scan_points
from qgtransport.engine.refine import Refinement

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
NUMBER_FORMS = "write e.g. 1.5, -2e-3, \"pi/2\" or \"sqrt(3)/2\""


def evaluate_number(text: str) -> float:
    """A number written as text: "1.5", "pi/2", "-2*pi/3", "sqrt(3)/2"; ValueError otherwise."""
    def evaluate(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id == "pi":
            return math.pi
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](evaluate(node.left), evaluate(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](evaluate(node.operand))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sqrt"
                and len(node.args) == 1 and not node.keywords):
            return math.sqrt(evaluate(node.args[0]))
        raise ValueError
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(evaluate(ast.parse(text.strip(), mode="eval").body))
    except (SyntaxError, ZeroDivisionError, TypeError, OverflowError, ValueError):
        raise ValueError(f"{text!r} is not a number ({NUMBER_FORMS})") from None


def expression(value):
    """A string evaluated as a number (evaluate_number); anything else unchanged."""
    return evaluate_number(value) if isinstance(value, str) else value


def split_range(text: str) -> tuple[str, str, int]:
    """"start:stop:num" -> (start text, stop text, num >= 1); ValueError naming the problem."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} must be start:stop:num, e.g. -3:3:61")
    try:
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"the number of points in {text!r} must be an integer >= 1") from None
    if num < 1:
        raise ValueError(f"the number of points in {text!r} must be >= 1, got {num}")
    check_scan_points(num, f"{text!r}")
    return parts[0], parts[1], num


def scan_values(value) -> np.ndarray:
    """The points of a scan: a number, a list, {start, stop, num} or "start:stop:num" (inclusive
    linspace); numbers may be expressions. Range and finiteness are checked by the caller's type;
    the number of points (at most `qgtransport.cost.MAX_SCAN_POINTS`) before the scan is made."""
    if isinstance(value, dict):
        if set(value) != {"start", "stop", "num"}:
            raise ValueError(f"a range is {{ start = ..., stop = ..., num = ... }}, got keys {sorted(value)}")
        num = value["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"num of a range must be an integer >= 1, got {num!r}")
        check_scan_points(num, f"the range of num = {num}")
        return np.linspace(_finite(value["start"]), _finite(value["stop"]), num)
    if isinstance(value, str) and ":" in value:
        start, stop, num = split_range(value)
        return np.linspace(_finite(start), _finite(stop), num)
    if isinstance(value, list):
        if not value:
            raise ValueError("must not be an empty list")
        return np.array([_number(v) for v in value])
    return np.array([_number(value)])


def _number(value) -> float:
    value = expression(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, a list or {{start, stop, num}}, got {value!r}")
    return float(value)


def _finite(value) -> float:
    number = _number(value)
    if not math.isfinite(number):
        raise ValueError(f"must be finite, got {value!r}")
    return number


# ---------------------------------------------------------------- value types of the configuration file


class Kind:
    """How the reference names a type ("integer", "numbers", ...) and, where the validator and not a
    Field constraint holds the range, the range in words."""

    def __init__(self, name: str, allowed: str = ""):
        self.name, self.allowed = name, allowed


def scan_array(value):
    return value if isinstance(value, np.ndarray) else scan_values(value)


def relative_path(value, info: ValidationInfo):
    """A path, relative to the configuration's folder (context "base")."""
    path = Path(O.text(value)).expanduser()
    return path if path.is_absolute() else info.context["base"] / path


def companion_file(value, info: ValidationInfo):
    """A Wannier90 companion file: a path, "auto" (beside the model file) or false (none)."""
    if value is False:
        return None
    if value == "auto":
        return "auto"
    if value is True:
        raise ValueError("expected a path, \"auto\" or false, got true")
    return relative_path(value, info)


def name_list(options: tuple, what: str = "entry"):
    """A list of names from `options` (a single string is a list of one), each once."""
    def check(value):
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of strings, got {O.describe(value)}")
        if not value:
            raise ValueError("must not be empty")
        unknown = [v for v in value if v not in options]
        if unknown:
            raise ValueError(f"unknown {what if len(unknown) == 1 else what + 's'} {', '.join(map(repr, unknown))}"
                             f"{O.suggestion(unknown[0], options)}; allowed: {', '.join(options)}")
        return tuple(dict.fromkeys(value))  # a name asked for twice is computed once
    return BeforeValidator(check)


def label_list(value):
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {O.describe(value)}")
    return tuple(value)


def number_matrix(value):
    if not isinstance(value, list) or not value or not all(isinstance(row, list) and row for row in value):
        raise ValueError(f"expected a list of lists of numbers, e.g. [[0, 0], [0.5, 0]], got {O.describe(value)}")
    rows = [[O.number(expression(x)) for x in row] for row in value]
    if not np.all(np.isfinite([x for row in rows for x in row])):
        raise ValueError("every entry must be finite")
    if len({len(row) for row in rows}) != 1:
        raise ValueError("every row must have the same number of entries")
    return rows


def direction_vector(value):
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValueError(f"expected a list of integers, e.g. [1, 0], got {O.describe(value)}")
    if not 1 <= len(value) <= 3:
        raise ValueError(f"expected 1 to 3 integers, got {len(value)}")
    if all(v == 0 for v in value):
        raise ValueError("must not be all zero")
    return tuple(value)


def refinement_table(value):
    if value is True:
        return Refinement()
    if value is False:
        return None
    return value


Expr = BeforeValidator(expression)
Number = Annotated[float, BeforeValidator(O.number), Expr, Field(allow_inf_nan=False), Kind("number")]
Integer = Annotated[int, BeforeValidator(O.integer), Kind("integer")]
Text = Annotated[str, BeforeValidator(O.text), Kind("string")]
Flag = Annotated[O.Flag, Kind("boolean")]
PathValue = Annotated[Path, BeforeValidator(relative_path), Kind("path")]
Companion = Annotated[Any, BeforeValidator(companion_file), Kind("path, `\"auto\"` or `false`")]
Numbers = Kind("numbers")  # a number, a list, {start, stop, num} or "start:stop:num"


def entry(default, description: str, **extra):
    """A key of a table: Field(default, description, json_schema_extra=extra); `example` is what
    the example of `qgt init` shows for a key without a default, `wannier90` marks the keys that
    only Wannier90 models take."""
    return Field(default, description=description, json_schema_extra=extra or None)
