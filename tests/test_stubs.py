"""The sympy stubs in ``typings/`` against the real sympy: names, class shapes, return types.

The stubs are what mypy believes about sympy; nothing checks them at run time
unless these tests do. Each stub module's public names must exist in the
module it describes, each stub class's methods and properties on the real
class, each declared base must be a real base, and the return types the stubs
promise where sympy's behaviour is surprising (simplify of a mutable matrix is
immutable; the assumption queries are three-valued) must hold.
"""

import ast
import importlib
from pathlib import Path

import pytest
import sympy
import sympy.logic.boolalg as boolalg
import sympy.stats
from sympy.logic.boolalg import Boolean

TYPINGS = Path(__file__).resolve().parent.parent / "typings"

STUB_MODULES = {
    "sympy/__init__.pyi": "sympy",
    "sympy/stats/__init__.pyi": "sympy.stats",
    "sympy/logic/__init__.pyi": "sympy.logic",
    "sympy/logic/boolalg.pyi": "sympy.logic.boolalg",
}
"""Each stub file and the module it describes."""

PRIVATE_CLASSES = {
    "_Singletons": "sympy.core.singleton.SingletonRegistry",
    "_UndefinedFunction": "sympy.core.function.UndefinedFunction",
    "_Limits": "sympy.core.containers.Tuple",
    "_RandomSymbol": "sympy.stats.rv.RandomSymbol",
}
"""Stub-only names for sympy classes that sympy does not export at the top level."""

INSTANCES = {
    "MatrixBase": sympy.Matrix([[1]]),
    "MutableDenseMatrix": sympy.Matrix([[1]]),
    "ImmutableDenseMatrix": sympy.ImmutableMatrix([[1]]),
}
"""Instances for classes whose stub properties are instance attributes at run time (rows, cols)."""


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _iterable(instance: object) -> bool:
    """Whether iter() works (also through the old __getitem__ protocol, as for matrices)."""
    try:
        iter(instance)  # type: ignore[call-overload]  # any object, on purpose
    except TypeError:
        return False
    return True


def _stub_tree(stub: str) -> ast.Module:
    return ast.parse((TYPINGS / stub).read_text())


def _public_names(tree: ast.Module) -> set[str]:
    """Names a stub module defines at top level (classes, functions, constants, aliases)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            # `import x as x` is a re-export; a plain import is not.
            names.update(
                a.asname for a in node.names if a.asname is not None and a.asname == a.name
            )
    return {n for n in names if not n.startswith("_")}


def _stub_classes() -> list[tuple[str, ast.ClassDef, type]]:
    """(stub file, class node, the real class it describes) for every stub class."""
    found = []
    for stub, module in STUB_MODULES.items():
        for node in _stub_tree(stub).body:
            if isinstance(node, ast.ClassDef):
                real = (
                    _resolve(PRIVATE_CLASSES[node.name])
                    if node.name in PRIVATE_CLASSES
                    else getattr(importlib.import_module(module), node.name)
                )
                assert isinstance(real, type), f"{module}.{node.name} is not a class"
                found.append((stub, node, real))
    return found


@pytest.mark.parametrize("stub", sorted(STUB_MODULES))
def test_stubs_every_public_name_exists(stub: str) -> None:
    """Every name a stub module declares exists in the real module (no invented names)."""
    module = importlib.import_module(STUB_MODULES[stub])
    missing = sorted(n for n in _public_names(_stub_tree(stub)) if not hasattr(module, n))
    assert not missing, f"{stub} declares names {module.__name__} does not have: {missing}"


def test_stubs_private_classes_name_real_classes() -> None:
    """Each stub-only class name stands for a real (unexported) sympy class."""
    declared = {
        n.name
        for stub in STUB_MODULES
        for n in _stub_tree(stub).body
        if isinstance(n, ast.ClassDef)
    }
    assert {n for n in declared if n.startswith("_")} == set(PRIVATE_CLASSES)
    registry = _resolve(PRIVATE_CLASSES["_Singletons"])
    assert isinstance(registry, type)
    assert isinstance(sympy.S, registry)


def test_stubs_class_members_and_bases_exist() -> None:
    """Every method/property of a stub class exists on the real class; declared bases are real."""
    problems: list[str] = []
    for stub, node, real in _stub_classes():
        problems.extend(
            f"{stub}: {node.name}.{item.name} is not on {real}"
            for item in node.body
            if isinstance(item, ast.FunctionDef)
            and not hasattr(real, item.name)
            and not hasattr(INSTANCES.get(node.name), item.name)
            and not (item.name == "__iter__" and _iterable(INSTANCES.get(node.name)))
        )
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id not in PRIVATE_CLASSES:
                real_base = getattr(sympy, base.id, None) or getattr(boolalg, base.id)
                assert isinstance(real_base, type)
                if not issubclass(real, real_base):
                    problems.append(f"{stub}: {real} is not a subclass of {real_base}")
    assert not problems, "\n".join(problems)


def test_stubs_matrix_base_is_not_basic() -> None:
    """sympy 1.14: MatrixBase is no Basic, ImmutableDenseMatrix is (the stubs say the same)."""
    assert not issubclass(sympy.MatrixBase, sympy.Basic)
    assert issubclass(sympy.ImmutableDenseMatrix, sympy.Basic)
    assert sympy.Matrix is sympy.MutableDenseMatrix
    assert sympy.ImmutableMatrix is sympy.ImmutableDenseMatrix


def test_stubs_return_types_follow_the_argument() -> None:
    """simplify/expand/diff: an Expr gives an Expr; a matrix gives the class the stubs name."""
    x = sympy.Symbol("x")
    m = sympy.Matrix([[x, x + x]])
    assert isinstance(sympy.simplify(x + x), sympy.Expr)
    assert isinstance(sympy.simplify(m), sympy.ImmutableDenseMatrix)  # even for a mutable one
    assert isinstance(sympy.expand(m), sympy.ImmutableDenseMatrix)
    assert isinstance(sympy.diff(m, x), sympy.MutableDenseMatrix)
    assert isinstance(sympy.diff(sympy.ImmutableMatrix(m), x), sympy.ImmutableDenseMatrix)
    assert isinstance(m + sympy.ImmutableMatrix(m), sympy.ImmutableDenseMatrix)
    assert isinstance(m * x, sympy.MutableDenseMatrix)
    assert isinstance(m.T @ sympy.ImmutableMatrix(m), sympy.ImmutableDenseMatrix)
    assert isinstance(-sympy.ImmutableMatrix(m), sympy.ImmutableDenseMatrix)  # Self
    assert isinstance(m.row(0), sympy.MutableDenseMatrix)
    assert isinstance(sympy.S(True), Boolean)  # bool before int in the overloads
    assert isinstance(m[0, 1], sympy.Expr)
    assert isinstance(m[0:2], list)
    assert isinstance(m[0, :], sympy.MutableDenseMatrix)
    assert isinstance(sympy.limit(1 / x, x, sympy.oo), sympy.Expr)
    assert isinstance(sympy.stats.E(sympy.stats.Normal("q", 0, 1)), sympy.Expr)
    assert isinstance(sympy.Add(x), sympy.Symbol)  # why Add.__new__ returns Expr, not Add


def test_stubs_assumptions_are_three_valued() -> None:
    """is_zero/is_positive/...: True, False or None (unknown), as the stubs' bool | None says."""
    assert sympy.Symbol("x", positive=True).is_zero is False
    assert sympy.Symbol("x").is_zero is None
    assert sympy.exp(sympy.Symbol("x")).is_positive is None  # x may be complex
    assert sympy.Integer(0).is_zero is True


def test_stubs_relations_are_boolean_without_truth_value() -> None:
    """Eq evaluates to sympy.true when it can; an unevaluated relation cannot be truth-tested."""
    x = sympy.Symbol("x")
    assert isinstance(sympy.Eq(x, 1), Boolean)
    assert sympy.Eq(x, x) is sympy.true
    assert isinstance(x < 1, Boolean)
    with pytest.raises(TypeError):
        bool(sympy.Eq(x, 1))
