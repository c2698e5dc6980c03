"""Safe arithmetic for model-written expressions: integers, + - * /, parentheses.

Model text is never passed to ``eval``. A small tokenizer and recursive-descent
parser accept only the grammar below, with hard limits on length, digits and
nesting, and compute exactly with :class:`fractions.Fraction`. There is no
power operator, so no input can make the evaluation slow.

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-") unary | atom
    atom       := INTEGER | "(" expression ")"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_CHARS = 200
MAX_DIGITS = 6
MAX_DEPTH = 32
_TOKEN = re.compile(r"\s*(?:(\d+)|(.))", re.DOTALL)


class ExpressionError(ValueError):
    """The text is not an allowed expression, or it cannot be evaluated (division by zero)."""


@dataclass(frozen=True)
class Evaluated:
    """An expression's exact value and the integer literals it used, in order."""

    value: Fraction
    numbers: tuple[int, ...]


def tokenize(text: str) -> list[str]:
    """Split into integer literals and the single characters ``+ - * / ( )``."""
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"expression longer than {MAX_CHARS} characters")
    tokens = []
    for match in _TOKEN.finditer(text):
        number, symbol = match.groups()
        if number is not None:
            if len(number) > MAX_DIGITS:
                raise ExpressionError(f"number with more than {MAX_DIGITS} digits")
            tokens.append(number)
        elif symbol is not None and not symbol.isspace():
            if symbol not in "+-*/()":
                raise ExpressionError(f"character {symbol!r} is not allowed")
            tokens.append(symbol)
    if not tokens:
        raise ExpressionError("empty expression")
    return tokens


class _Parser:
    """Recursive descent over the tokens, evaluating as it goes."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.numbers: list[int] = []

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("expression ends too early")
        self.position += 1
        return token

    def expression(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/"):
            operator, right = self.take(), self.unary()
            if operator == "*":
                value = value * right
            elif right == 0:
                raise ExpressionError("division by zero")
            else:
                value = value / right
        return value

    def unary(self) -> Fraction:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels")
        token = self.peek()
        if token in ("+", "-"):
            self.take()
            value = self.unary()
            value = -value if token == "-" else value
        else:
            value = self.atom()
        self.depth -= 1
        return value

    def atom(self) -> Fraction:
        token = self.take()
        if token.isdigit():
            self.numbers.append(int(token))
            return Fraction(int(token))
        if token == "(":
            value = self.expression()
            if self.take() != ")":
                raise ExpressionError("missing closing parenthesis")
            return value
        raise ExpressionError(f"unexpected {token!r}")


def evaluate(text: str) -> Evaluated:
    """Parse and evaluate ``text`` exactly; raise :class:`ExpressionError` if not allowed."""
    parser = _Parser(tokenize(text))
    value = parser.expression()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} after the expression")
    return Evaluated(value=value, numbers=tuple(parser.numbers))
