"""Reading a formula: tokens, then a tree (a Pratt parser). No ``eval`` anywhere.

Grammar (SeaTable's formula language, the common part)::

    expr    := operand (binop operand)*     precedence: comparison < & < + - < * / % < ^
    operand := number | 'text' | "text" | {Column Name} | name(args) | - operand | ( expr )
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Longest formula text accepted.
MAX_FORMULA_CHARS = 10_000
#: Deepest nesting of a formula tree (bounds the evaluator's recursion).
MAX_DEPTH = 100


class FormulaSyntaxError(ValueError):
    """The formula cannot be read; the message says where."""


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, ref, name, op, (, ), ",", end
    text: str
    pos: int
    end: int


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<ref>\{[^{}]*\})
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|<>|!=|==|[-+*/^%&=<>])
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


def tokens(text: str) -> list[Token]:
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaSyntaxError(f"a formula has at most {MAX_FORMULA_CHARS} characters")
    out: list[Token] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            out.append(Token("end", "", pos, pos))
            return out
        found = _TOKEN.match(text, pos)
        if found is None or found.lastgroup is None:
            raise FormulaSyntaxError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = found.lastgroup
        value = found.group(kind)
        start = found.start(kind)
        if kind == "punct":
            kind = value
        out.append(Token(kind, value, start, found.end()))
        pos = found.end()


# ---- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: int | float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Num | Str | Ref | Call | Neg | Binary

_BINDING = {
    "=": 1, "==": 1, "!=": 1, "<>": 1, "<": 1, "<=": 1, ">": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4, "%": 4,
    "^": 5,
}  # fmt: skip
_ESCAPE = re.compile(r"\\(.)")


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.i = 0

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str) -> Token:
        tok = self.take()
        if tok.kind != kind:
            raise FormulaSyntaxError(f"expected {kind!r} at position {tok.pos + 1}, found {_show(tok)}")
        return tok

    def expr(self, min_bp: int = 0, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaSyntaxError(f"a formula nests at most {MAX_DEPTH} levels")
        left = self.operand(depth)
        while True:
            tok = self.peek()
            bp = _BINDING.get(tok.text) if tok.kind == "op" else None
            if bp is None or bp <= min_bp:
                return left
            self.take()
            # ^ is right-associative; the rest left-associative
            right = self.expr(bp - 1 if tok.text == "^" else bp, depth + 1)
            left = Binary(tok.text, left, right)

    def operand(self, depth: int) -> Node:
        tok = self.take()
        if tok.kind == "num":
            number = float(tok.text)
            return Num(int(number) if number.is_integer() and re.fullmatch(r"\d+", tok.text) else number)
        if tok.kind == "str":
            return Str(_ESCAPE.sub(r"\1", tok.text[1:-1]))
        if tok.kind == "ref":
            name = tok.text[1:-1].strip()
            if not name:
                raise FormulaSyntaxError(f"empty column reference at position {tok.pos + 1}")
            return Ref(name)
        if tok.kind == "op" and tok.text in ("-", "+"):
            inner = self.operand(depth + 1)
            return Neg(inner) if tok.text == "-" else inner
        if tok.kind == "(":
            inner = self.expr(0, depth + 1)
            self.expect(")")
            return inner
        if tok.kind == "name":
            self.expect("(")
            args: list[Node] = []
            if self.peek().kind != ")":
                args.append(self.expr(0, depth + 1))
                while self.peek().kind == ",":
                    self.take()
                    args.append(self.expr(0, depth + 1))
            self.expect(")")
            return Call(tok.text.lower(), tuple(args))
        raise FormulaSyntaxError(f"unexpected {_show(tok)} at position {tok.pos + 1}")


def _show(tok: Token) -> str:
    return "the end of the formula" if tok.kind == "end" else repr(tok.text)


def parse(text: str) -> Node:
    """The tree of ``text``; FormulaSyntaxError when it is not a formula."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaSyntaxError("the formula is empty")
    parser = _Parser(text)
    node = parser.expr()
    tok = parser.peek()
    if tok.kind != "end":
        raise FormulaSyntaxError(f"unexpected {_show(tok)} at position {tok.pos + 1}")
    return node


def rename_reference(text: str, old: str, new: str) -> str:
    """``text`` with every ``{old}`` reference spelled ``{new}`` (strings untouched)."""
    out: list[str] = []
    last = 0
    for tok in tokens(text):
        if tok.kind == "ref" and tok.text[1:-1].strip() == old:
            out.append(text[last : tok.pos])
            out.append("{" + new + "}")
            last = tok.end
    out.append(text[last:])
    return "".join(out)
