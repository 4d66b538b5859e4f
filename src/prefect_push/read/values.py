"""Values read from ast without running anything: literals, arithmetic of literals, module-level constants.

Pure: ast nodes in, Python values out; Unsafe for anything else (a call, an attribute, an unknown name) unless
the caller's `resolve` hook knows the node (schema.py's allow-list of standard-library constructors).
"""
from __future__ import annotations

import ast
import copy
import re
from collections import Counter
from functools import cached_property
from typing import Any, Callable


class Unsafe(Exception):
    """An expression prefect-push will not evaluate: not made of literals, or too big to build."""


_MAX_NODES = 10_000  # nodes evaluated for one expression, constants written out included
_MAX_LEN = 100_000  # characters or items an operation may build (a literal in the source may be longer)
_MAX_INT_BITS = 4_096  # an integer an operation may build (2 ** 4096 has 1234 digits)
_BIN_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
            ast.Pow: lambda a, b: a ** b}
_SIZED = (str, bytes, tuple, list)


Resolve = Callable[[ast.expr, Callable[[ast.expr], Any]], Any]  # (node, evaluate a sub-node) -> value, or Unsafe


def literal_value(node: ast.expr, constants: dict[str, Any] | None = None, resolve: Resolve | None = None) -> Any:
    """The value of an expression of literals: constants, + - * / // % ** and unary - +, tuples, lists, sets,
    dicts, set(), f-strings of those, and names in `constants` (already evaluated). A call, an attribute or an
    unknown name goes to `resolve` when given (it raises Unsafe for what it does not know). Raises Unsafe for
    anything else and for what would be too big to build (`"x" * 10**9`, `9 ** 9 ** 9`)."""
    budget = [_MAX_NODES, _MAX_WEIGHT]  # nodes evaluated; items of the constants written out (copied) so far
    try:
        return _value(node, constants or {}, budget, resolve)
    except Unsafe:
        raise
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise Unsafe(str(exc)) from None


def _value(node: ast.expr, constants: dict[str, Any], budget: list[int], resolve: Resolve | None = None) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise Unsafe("expression too big")

    def sub(n: ast.expr) -> Any:
        return _value(n, constants, budget, resolve)

    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        value = constants[node.id]
        budget[1] -= _weight(value, budget[1])  # before the copy: `[B, B, ...]` of a big B copies it each time
        if budget[1] < 0:
            raise Unsafe("too many items once written out")
        return _copy(value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = sub(node.operand)
        if isinstance(operand, bool) or not isinstance(operand, (int, float, complex)) and resolve is None:
            raise Unsafe("unary minus of a non-number")
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
        left, right = sub(node.left), sub(node.right)
        _check_operation(node.op, left, right)
        return _check_size(_BIN_OPS[type(node.op)](left, right))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise Unsafe("unpacking")
        items = [sub(e) for e in node.elts]
        return _check_weight(tuple(items) if isinstance(node, ast.Tuple) else items if isinstance(node, ast.List)
                             else set(items))
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise Unsafe("unpacking")
        return _check_weight({sub(k): sub(v) for k, v in zip(node.keys, node.values)})  # type: ignore[arg-type]
    if isinstance(node, ast.JoinedStr):
        return _check_size("".join(_formatted(v, sub) for v in node.values))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set"
            and not node.args and not node.keywords and "set" not in constants):
        return set()  # as ast.literal_eval reads it
    if resolve is not None and isinstance(node, (ast.Call, ast.Attribute, ast.Name)):
        return resolve(node, sub)
    if isinstance(node, ast.Name):
        raise Unsafe(f"{node.id} is not a module-level constant")
    raise Unsafe(f"{type(node).__name__} is not a literal")


_PLAIN_SPEC = re.compile(r"[<>^=]?[-+ ]?#?0?\d{0,3}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?")  # no width past 999


def _formatted(part: ast.expr, sub: Callable[[ast.expr], Any]) -> str:
    """One piece of an f-string of literals: f"etl-{ENV}", f"{RATE:.2f}"."""
    if isinstance(part, ast.Constant):
        return str(part.value)
    if not isinstance(part, ast.FormattedValue):
        raise Unsafe("f-string")
    value = sub(part.value)
    if not isinstance(value, (str, int, float, bool)) or value is None:
        raise Unsafe("f-string of a non-literal")  # str() or format() of anything else could run its code
    value = {-1: value, 115: str(value), 114: repr(value), 97: ascii(value)}.get(part.conversion, value)
    spec = "" if part.format_spec is None else _formatted_spec(part.format_spec)
    if not _PLAIN_SPEC.fullmatch(spec):
        raise Unsafe("f-string format spec")
    return format(value, spec)


def _formatted_spec(spec: ast.expr) -> str:
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        return "".join(str(v.value) for v in spec.values)  # type: ignore[attr-defined]
    raise Unsafe("computed format spec")


def _check_operation(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse, before computing it, what would take long or much memory to build."""
    ints = isinstance(left, int) and isinstance(right, int)
    if isinstance(op, ast.Pow) and ints and right > 0 and max(abs(left).bit_length(), 1) * right > _MAX_INT_BITS:
        raise Unsafe("power too big")
    if isinstance(op, ast.Mult):
        if ints and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise Unsafe("product too big")
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, _SIZED) and isinstance(n, int) and len(seq) * max(n, 0) > _MAX_LEN:
                raise Unsafe("repetition too long")
    if isinstance(op, ast.Add) and isinstance(left, _SIZED) and isinstance(right, _SIZED) and (
            len(left) + len(right) > _MAX_LEN):
        raise Unsafe("concatenation too long")
    if isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
        raise Unsafe("string formatting")  # "%*d" % (10**9, 1) builds a gigabyte


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS or isinstance(value, _SIZED) and (
            len(value) > _MAX_LEN):
        raise Unsafe("result too big")
    return _check_weight(value)


_MAX_WEIGHT = 1_000_000  # items of a container counted through its nested ones, as a copy or a literal holds them


def _check_weight(value: Any) -> Any:
    """Refuse a container whose nested items, counted as written out, pass _MAX_WEIGHT: constants share their
    values (`A = [0] * 1000; B = [A] * 1000; C = [B] * 100` is a few lines and 10**8 items once copied)."""
    if _weight(value, _MAX_WEIGHT) > _MAX_WEIGHT:
        raise Unsafe("too many items once written out")
    return value


def _weight(value: Any, limit: int) -> int:
    """The items of `value` counted through its nested containers, as written out; past `limit` the walk stops
    (so it never walks more than `limit` items) and the count returned is only known to exceed it."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        if not isinstance(item, (list, tuple, set, dict)):
            continue
        items = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
        count += len(items)
        stack.extend(v for v in items if isinstance(v, (list, tuple, set, dict)))
    return count


def _copy(value: Any) -> Any:
    # a constant used twice must not share a list or dict: `A = []; B = (A, A)` then B[0].append
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, set):
        return set(value)
    return value


def written_out(node: ast.expr, constants: dict[str, Any]) -> ast.expr:
    """`node` with each module-level constant replaced by its value, as literal source can hold it; Unsafe when
    the expression is not made of literals and constants (or too big)."""
    return _as_literal(literal_value(node, constants))


def substituted(node: ast.expr, constants: dict[str, Any]) -> ast.expr:
    """`node` with each name of a module-level constant replaced by the constant's literal (the rest, calls
    included, left as written): `timedelta(minutes=TIMEOUT)` reads `timedelta(minutes=5)`."""
    class Replace(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.expr:
            if isinstance(name.ctx, ast.Load) and name.id in constants:
                try:
                    return _as_literal(constants[name.id])
                except Unsafe:
                    pass
            return name

    if not any(isinstance(n, ast.Name) and n.id in constants for n in ast.walk(node)):
        return node  # nothing to write out (most calls): no copy
    return Replace().visit(copy.deepcopy(node))


def _as_literal(value: Any) -> ast.expr:
    if isinstance(value, (tuple, list, set)):
        if isinstance(value, set) and not value:
            return ast.Call(ast.Name("set", ast.Load()), [], [])
        elts = [_as_literal(v) for v in value]
        return ast.Tuple(elts, ast.Load()) if isinstance(value, tuple) else (
            ast.List(elts, ast.Load()) if isinstance(value, list) else ast.Set(elts))
    if isinstance(value, dict):
        return ast.Dict([_as_literal(k) for k in value], [_as_literal(v) for v in value.values()])
    if isinstance(value, float) and value != value:
        raise Unsafe("nan has no literal")  # unparses as (1e309-1e309), which is arithmetic of literals anyway
    return ast.Constant(value)


class Constants:
    """Module-level names bound exactly once, by a top-level `NAME = <literals>` or `NAME: T = <literals>`:
    what the name holds wherever it is used after that statement. Computed on first use (most files have none)."""

    def __init__(self, tree: ast.Module, text: str | None = None) -> None:
        self._tree = tree
        self._globals = text is None or "global" in text  # no `global` statement to look for: skip function bodies

    def before(self, statement: ast.stmt) -> dict[str, Any]:
        """The constants bound by statements above `statement` (a top-level one): what Python has bound when it
        runs `statement`'s decorators and defaults."""
        index = self._index.get(id(statement), len(self._tree.body))
        return {name: value for name, (where, value) in self._values.items() if where < index}

    @cached_property
    def bindings(self) -> Counter[str]:
        return module_bindings(self._tree, self._globals)

    @cached_property
    def _index(self) -> dict[int, int]:
        return {id(node): i for i, node in enumerate(self._tree.body)}

    @cached_property
    def _values(self) -> dict[str, tuple[int, Any]]:
        counts = self.bindings
        if counts["*"]:
            return {}  # `from x import *` may rebind any name
        values: dict[str, tuple[int, Any]] = {}
        for i, node in enumerate(self._tree.body):
            if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
                names = [t.id for t in node.targets]  # type: ignore[attr-defined]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                names = [node.target.id]
            else:
                continue
            if not any(counts[n] == 1 for n in names):
                continue
            try:
                value = literal_value(node.value, {n: v for n, (_, v) in values.items()})  # type: ignore[arg-type]
            except Unsafe:
                continue
            for n in names:
                if counts[n] == 1:
                    values[n] = (i, value)
        return values


def module_bindings(tree: ast.Module, globals_possible: bool = True) -> Counter[str]:
    """How many times each name is bound (or deleted) in the module's own scope, with `global NAME` in a
    function counting as more than once; "*" counts star imports. Iterative: a 10 000-term expression is fine.
    globals_possible=False: the source has no `global`, so function and class bodies need no walk for one."""
    counts: Counter[str] = Counter()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            counts.update({n: 2 for n in node.names})
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # the body is another scope (its `global` statements still count): only what runs at definition
            a = node.args
            stack.extend([*a.defaults, *(d for d in a.kw_defaults if d is not None)])
            if not isinstance(node, ast.Lambda):
                counts[node.name] += 1
                stack.extend(node.decorator_list)
                stack.extend(x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
                             if x is not None and x.annotation is not None)
                if node.returns is not None:
                    stack.append(node.returns)
            if globals_possible:
                stack.extend(n for n in ast.walk(node) if isinstance(n, ast.Global))
            continue
        if isinstance(node, ast.ClassDef):
            counts[node.name] += 1
            stack.extend([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
            if globals_possible:
                stack.extend(n for n in ast.walk(node) if isinstance(n, ast.Global))
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            counts[node.id] += 1
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                counts[alias.asname or alias.name.split(".")[0]] += 1  # "*" for a star import
        elif isinstance(node, ast.ExceptHandler) and node.name:
            counts[node.name] += 1
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            counts[node.name] += 1
        elif isinstance(node, ast.MatchMapping) and node.rest:
            counts[node.rest] += 1
        stack.extend(ast.iter_child_nodes(node))
    return counts
