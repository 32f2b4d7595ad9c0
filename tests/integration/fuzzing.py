"""Hostile requests for every route family of the sandbox, generated from valid templates.

Each template is a request a real client would send; a case replaces one or more of its fields
(JSON body, form field, query parameter or header) with a hostile value: the wrong JSON type,
out-of-range or non-finite numbers, deep nesting, lone surrogates, non-ASCII digits, odd Unicode,
huge text. Cases are drawn from a seeded generator, so a run is repeatable.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ADDRESS = "0x" + "ab" * 20
CLOID = "0x" + "12" * 16
SIG = {"r": "0x" + "1" * 64, "s": "0x" + "2" * 64, "v": 27}


class Raw(str):
    """A JSON fragment written into the body as is (NaN, deep nesting, a lone surrogate)."""


HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1e308,
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e400"),
    "",
    "1e30",
    "-0",
    "NaN",
    "²",
    "١٢٣",
    "０x" + "ab" * 20,
    "0x" + "ab" * 19 + "a_",
    " 0x" + "ab" * 20,
    "e\u0301",
    "\u202e\u200b\ufeff",
    "a\x00b",  # valid JSON ("a\\u0000b"); PostgreSQL cannot store it
    "🧪" * 50,
    Raw('"\\ud800"'),
    Raw('"a\\udfff"'),
    "x" * 20_000,
    [],
    [1, "a", None],
    {},
    {"x": {"y": [1]}},
    Raw("[" * 3000 + "]" * 3000),
    Raw('{"a":' * 200 + "1" + "}" * 200),
]
# what a form field, query parameter or header can carry: text only
HOSTILE_TEXT = [
    "",
    "-1",
    "1.5",
    str(2**63),
    str(2**64),
    "9" * 40,
    "NaN",
    "inf",
    "1e30",
    "²",
    "١٢٣",
    "０",
    "e\u0301",
    "\u202e",
    "%00",
    "a\x00b",  # a NUL in a form field or query value: PostgreSQL cannot store it
    "%ff%fe",
    "x" * 5000,
    "true",
    "[1]",
    '{"a":1}',
    "0x",
    "0x" + "g" * 40,
]
# header values go as bytes: non-ASCII ones as UTF-8, as a careless client would send them
HEADER_TEXT = [t.encode("utf-8") for t in HOSTILE_TEXT if "\x00" not in t] + [b"\t", b"a b", b"\xff\xfe"]


@dataclass
class Template:
    """A valid request: ``json`` bodies, ``form`` bodies, ``query`` and ``headers`` may be hostile."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    costly: bool = False  # hashes a password: fewer random cases
    # signs the request after the hostile change (given the body and query), so the case reaches
    # past authentication; returns the (body, query) to send
    finish: Any = None

    def slots(self) -> list[tuple[str, tuple[Any, ...]]]:
        out: list[tuple[str, tuple[Any, ...]]] = []
        if self.json is not None:
            out += [("json", path) for path in _paths(self.json)]
        out += [("form", (k,)) for k in self.form or {}]
        out += [("query", (k,)) for k in self.query]
        out += [("headers", (k,)) for k in self.headers]
        return out


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    if not isinstance(value, list):  # a parent was replaced already: it wins
        return value
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


def dumps(value: Any) -> bytes:
    """JSON with Raw fragments spliced in verbatim."""
    raws: list[str] = []

    def mark(v: Any) -> Any:
        if isinstance(v, Raw):
            raws.append(str(v))
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(value), allow_nan=True)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00RAW{i}\x00"), raw)
    return text.encode("utf-8", errors="surrogatepass")


@dataclass
class Case:
    method: str
    path: str
    content: bytes | None
    query: dict[str, str]
    headers: dict[str, str]
    label: str


def build(t: Template, changes: list[tuple[str, tuple[Any, ...], Any]]) -> Case:
    body, form = t.json, dict(t.form) if t.form is not None else None
    query, headers = dict(t.query), dict(t.headers)
    for where, path, value in changes:
        if where == "json":
            body = _replace(body, path, value)
        elif where == "form":
            form[path[0]] = value  # type: ignore[index]
        elif where == "query":
            query[path[0]] = value
        else:
            headers[path[0]] = value
    if t.finish is not None and not any(p[:1] in (("nonce",), ("signature",)) for _, p, _ in changes):
        with contextlib.suppress(Exception):  # a hostile value that cannot even be signed: sent unsigned
            body, query = t.finish(body, query)
    if body is not None:
        content = dumps(body)
        headers.setdefault("content-type", "application/json")
    elif form is not None:
        from urllib.parse import urlencode

        content = urlencode(form).encode()
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
    else:
        content = None
    label = f"{t.method} {t.path} " + ", ".join(f"{w}:{'.'.join(map(str, p))}" for w, p, _ in changes)
    return Case(t.method, t.path, content, query, headers, label)


def values_for(where: str) -> list[Any]:
    return HOSTILE if where == "json" else HEADER_TEXT if where == "headers" else HOSTILE_TEXT


def cases(templates: list[Template], total: int, seed: int = 20261202) -> Iterator[Case]:
    """Every single-field substitution of every template, then random multi-field ones up to ``total``."""
    rng = random.Random(seed)
    n = 0
    for t in templates:
        for where, path in t.slots():
            for value in values_for(where):
                n += 1
                yield build(t, [(where, path, value)])
    cheap = [t for t in templates if not t.costly and t.slots()]
    while n < total:
        t = rng.choice(cheap)
        slots = t.slots()
        picked = rng.sample(slots, k=min(len(slots), rng.randint(2, 4)))
        changes = [(w, p, rng.choice(values_for(w))) for w, p in picked]
        n += 1
        yield build(t, changes)
