"""Layering: surveylib is a library; it does not reach into the study or into other objects.

Read from the source (AST), module by module of ``surveylib/``, with the rules of the project's
layering tool: no import of the study's scripts (``analyses``), no import by string
(``importlib.import_module``, ``__import__``: the test could not see where it goes), no edit
of ``sys.path``, and no read of another object's private attribute (``x._name`` where ``x`` is
not ``self`` or ``cls``, including a private helper of another module, ``mod._helper``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "surveylib"


def violations(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` for every breach of the layering rules in one module's source."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, f"import {a.name}") for a in node.names
                    if a.name.split(".")[0] == "analyses"]
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] == "analyses":
                out.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                out.append((node.lineno, f"{name}(...): an import by string"))
        if isinstance(node, ast.Attribute):
            v = node.value
            if (node.attr in ("insert", "append", "extend") and isinstance(v, ast.Attribute)
                    and v.attr == "path" and isinstance(v.value, ast.Name)
                    and v.value.id == "sys"):
                out.append((node.lineno, f"sys.path.{node.attr}"))
            if (node.attr.startswith("_") and not node.attr.startswith("__")
                    and not (isinstance(v, ast.Name) and v.id in ("self", "cls"))):
                out.append((node.lineno, f"private read .{node.attr}"))
    return out


def test_the_rules_catch_each_breach():
    bad = ("import analyses._common\nfrom analyses import x\nimportlib.import_module('a')\n"
           "__import__('b')\nsys.path.insert(0, '.')\nd._data\nmod._helper()\n")
    assert sorted(line for line, _ in violations(bad)) == [1, 2, 3, 4, 5, 6, 7]
    fine = ("from . import _validation\nfrom ._validation import check\nself._x\ncls._y\n"
            "obj.__class__\nsys.path\n")
    assert violations(fine) == []


MODULES = sorted(LIBRARY.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(LIBRARY)) for p in MODULES])
def test_module_keeps_to_its_layer(path):
    found = violations(path.read_text(encoding="utf-8"))
    assert not found, "\n".join(f"{path.name}:{line}: {what}" for line, what in found)
