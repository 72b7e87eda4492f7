"""Expression calculator: tokenize, parse and evaluate arithmetic programs.

Random (seeded) programs of `let` bindings and arithmetic are generated as text, then
tokenized by a generator, parsed by recursive descent into node objects, and evaluated
with scopes entered through a context manager. Division by zero and unknown names raise
exceptions that the evaluator catches and counts. This one exercises the statements
that keep hidden state (for, with, try/except) in hot code.
"""

import random
import sys


class CalcError(Exception):
    pass


class UnknownName(CalcError):
    pass


# ---------------------------------------------------------------- tokens

PUNCTUATION = set("+-*/%()=;")


def tokenize(text):
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            start = i
            while i < n and text[i].isdigit():
                i += 1
            yield ("num", int(text[start:i]))
        elif ch.isalpha():
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            yield ("kw" if word in ("let", "in") else "name", word)
        elif ch in PUNCTUATION:
            i += 1
            yield ("op", ch)
        else:
            raise CalcError(f"bad character {ch!r} at {i}")
    yield ("end", None)


# ---------------------------------------------------------------- syntax tree

class Num:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def eval(self, env):
        return self.value


class Name:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def eval(self, env):
        return env.lookup(self.name)


class BinOp:
    __slots__ = ("op", "left", "right")

    def __init__(self, op, left, right):
        self.op = op
        self.left = left
        self.right = right

    def eval(self, env):
        x = self.left.eval(env)
        y = self.right.eval(env)
        op = self.op
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if y == 0:
            raise ZeroDivisionError(f"{x} {op} 0")
        return x // y if op == "/" else x % y


class Neg:
    __slots__ = ("operand",)

    def __init__(self, operand):
        self.operand = operand

    def eval(self, env):
        return -self.operand.eval(env)


class Let:
    __slots__ = ("name", "value", "body")

    def __init__(self, name, value, body):
        self.name = name
        self.value = value
        self.body = body

    def eval(self, env):
        value = self.value.eval(env)
        with env.scope(self.name, value):
            return self.body.eval(env)


# ---------------------------------------------------------------- parser

class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.current = next(self.tokens)

    def advance(self):
        token = self.current
        self.current = next(self.tokens)
        return token

    def expect(self, kind, value=None):
        token = self.advance()
        if token[0] != kind or (value is not None and token[1] != value):
            raise CalcError(f"expected {value or kind}, got {token[1]!r}")
        return token

    def program(self):
        statements = []
        while self.current[0] != "end":
            statements.append(self.expression())
            self.expect("op", ";")
        return statements

    def expression(self):
        if self.current == ("kw", "let"):
            self.advance()
            name = self.expect("name")[1]
            self.expect("op", "=")
            value = self.expression()
            self.expect("kw", "in")
            return Let(name, value, self.expression())
        return self.sum()

    def sum(self):
        node = self.product()
        while self.current[0] == "op" and self.current[1] in "+-":
            node = BinOp(self.advance()[1], node, self.product())
        return node

    def product(self):
        node = self.unary()
        while self.current[0] == "op" and self.current[1] in "*/%":
            node = BinOp(self.advance()[1], node, self.unary())
        return node

    def unary(self):
        if self.current == ("op", "-"):
            self.advance()
            return Neg(self.unary())
        return self.atom()

    def atom(self):
        kind, value = self.advance()
        if kind == "num":
            return Num(value)
        if kind == "name":
            return Name(value)
        if (kind, value) == ("op", "("):
            node = self.expression()
            self.expect("op", ")")
            return node
        raise CalcError(f"unexpected {value!r}")


# ---------------------------------------------------------------- evaluation

class Environment:
    def __init__(self):
        self.frames = [{}]

    def lookup(self, name):
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise UnknownName(name)

    def scope(self, name, value):
        return Scope(self, name, value)


class Scope:
    def __init__(self, env, name, value):
        self.env = env
        self.name = name
        self.value = value

    def __enter__(self):
        self.env.frames.append({self.name: self.value})
        return self

    def __exit__(self, *exc):
        self.env.frames.pop()
        return False


# ---------------------------------------------------------------- workload

NAMES = ["a", "b", "c", "d", "x", "y"]


def random_expression(rng, depth, bound):
    roll = rng.random()
    if depth <= 0 or roll < 0.2:
        if bound and rng.random() < 0.6:
            return rng.choice(bound)
        return str(rng.randint(0, 20)) if rng.random() < 0.99 else rng.choice(NAMES)
    if roll < 0.35:
        name = rng.choice(NAMES)
        value = random_expression(rng, depth - 1, bound)
        body = random_expression(rng, depth - 1, bound + [name])
        return f"(let {name} = {value} in {body})"
    if roll < 0.45:
        return f"-({random_expression(rng, depth - 1, bound)})"
    op = rng.choice("+-*/%")
    return f"({random_expression(rng, depth - 1, bound)} {op} {random_expression(rng, depth - 1, bound)})"


def run_program(text, stats):
    env = Environment()
    total = 0
    for statement in Parser(text).program():
        try:
            total += statement.eval(env)
        except ZeroDivisionError:
            stats["div0"] += 1
        except UnknownName:
            stats["unknown"] += 1
        else:
            stats["ok"] += 1
    return total


def main(programs):
    rng = random.Random(1966)
    stats = {"ok": 0, "div0": 0, "unknown": 0}
    grand = 0
    chars = 0
    for _ in range(programs):
        text = " ".join(random_expression(rng, 6, []) + ";" for _ in range(8))
        chars += len(text)
        grand = (grand * 1_000_003 + run_program(text, stats)) % (1 << 61)
    print(f"{programs} programs, {chars} characters")
    print(f"statements: {stats['ok']} ok, {stats['div0']} divisions by zero, {stats['unknown']} unknown names")
    print(f"checksum {grand}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
