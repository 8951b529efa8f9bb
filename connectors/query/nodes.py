"""The query AST, and its printer (``to_text``), whose output parses back to the same tree.

Trees are kept flat: an ``And`` has no ``And`` child and an ``Or`` no ``Or`` child (use :func:`and_` and :func:`or_`
to build them). Every token in a tree is already folded (see :mod:`connectors.query.normalize`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FilterField = Literal["lang", "platform"]


@dataclass(frozen=True, slots=True)
class Term:
    """One token: ``veloxa``, ``@veloxa``, ``#veloxa``; ``prefix`` for a trailing wildcard (``veloxa*``)."""

    token: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more tokens in this order, adjacent (``"cargo max"``)."""

    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """``lang:nl`` (the mention's declared language, primary subtag) or ``platform:reddit``."""

    field: FilterField
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Operand = Term | Phrase


@dataclass(frozen=True, slots=True)
class Near:
    """Some alternative of ``left`` and some alternative of ``right`` within ``distance`` words, either order.

    Distance counts token positions from the end of one to the start of the other: adjacent is 1, one word
    between is 2. The two must not overlap (``a NEAR/3 a`` needs two ``a``).
    """

    left: tuple[Operand, ...]
    right: tuple[Operand, ...]
    distance: int


Node = Term | Phrase | Filter | Not | And | Or | Near


def and_(*children: Node) -> Node:
    """An ``And`` of ``children``, flattened; a single child is returned as is."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*children: Node) -> Node:
    """An ``Or`` of ``children``, flattened; a single child is returned as is."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (child,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


# Binding strength, loosest first: OR < AND < NOT < NEAR < a single term.
_OR, _AND, _NOT, _NEAR, _ATOM = range(5)


def _strength(node: Node) -> int:
    match node:
        case Or():
            return _OR
        case And():
            return _AND
        case Not():
            return _NOT
        case Near():
            return _NEAR
        case _:
            return _ATOM


def to_text(node: Node) -> str:
    """The query text of ``node``, with parentheses only where precedence needs them."""

    def child(sub: Node, at_least: int) -> str:
        text = to_text(sub)
        return f"({text})" if _strength(sub) < at_least else text

    match node:
        case Term(token, prefix):
            return token + ("*" if prefix else "")
        case Phrase(tokens):
            return '"' + " ".join(tokens) + '"'
        case Filter(field, value):
            return f"{field}:{value}"
        case Not(sub):
            return "NOT " + child(sub, _NOT)
        case And(children):
            return " AND ".join(child(c, _NOT) for c in children)
        case Or(children):
            return " OR ".join(child(c, _AND) for c in children)
        case Near(left, right, distance):
            return f"{_operands(left)} NEAR/{distance} {_operands(right)}"
    raise TypeError(node)


def _operands(alternatives: tuple[Operand, ...]) -> str:
    text = " OR ".join(to_text(a) for a in alternatives)
    return text if len(alternatives) == 1 else f"({text})"
