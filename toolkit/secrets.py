"""Secret: a holder for credentials whose every display path is masked.

A notebook shows whatever a cell returns, logs print reprs, and exceptions carry their
arguments. Wrapping each private key, API secret, token and password in ``Secret`` means
none of those paths can print the value; code that needs it calls ``reveal()``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _stdlib_secrets
from typing import Any

__all__ = ["Secret", "generate_password", "reveal"]

_FINGERPRINT_PERSON = b"toolkit-secret"


class Secret:
    """A credential that never shows its value by accident.

    ``repr``, ``str``, ``format`` and the notebook display hooks show ``label=****abc123``,
    where the tail is a short, stable fingerprint (24 bits of BLAKE2b), enough to tell two
    keys apart without helping anyone guess either. Pickling and copying to another process
    are refused; ``reveal()`` is the only way to the value.
    """

    __slots__ = ("_label", "_value")

    def __init__(self, value: str | bytes | Secret, label: str = "secret") -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str | bytes):
            raise TypeError(f"Secret holds str or bytes, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_label", label)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> Any:
        """The value itself: call this only where the value must leave the holder."""
        return self._value

    @property
    def label(self) -> str:
        """What the secret is (``api_key``, ``password`` ...), shown in its masked form."""
        return self._label

    @property
    def fingerprint(self) -> str:
        """Six hex digits that identify the value without disclosing it."""
        raw = self._value.encode() if isinstance(self._value, str) else self._value
        return hashlib.blake2b(raw, digest_size=3, person=_FINGERPRINT_PERSON).hexdigest()

    def masked(self) -> str:
        """The label and a fingerprint, never the value: ``api_key=****3fa2c1``."""
        return f"{self._label}=****{self.fingerprint}"

    def __repr__(self) -> str:
        return f"Secret({self.masked()})"

    def __str__(self) -> str:
        return self.masked()

    def __format__(self, spec: str) -> str:
        return format(self.masked(), spec)

    def _repr_html_(self) -> str:
        return f"<code>{self.masked()}</code>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("Secret refuses to be pickled; store it with toolkit.keystore instead")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        a, b = self._value, other._value
        if type(a) is not type(b):
            return False
        if isinstance(a, str):
            a, b = a.encode(), b.encode()
        return hmac.compare_digest(a, b)

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)


def reveal(value: str | Secret) -> str:
    """The plain value of a ``Secret``, or a plain string unchanged (for APIs that take either)."""
    return value.reveal() if isinstance(value, Secret) else value


def generate_password(nbytes: int = 18) -> Secret:
    """A fresh random password (URL-safe text), already wrapped."""
    return Secret(_stdlib_secrets.token_urlsafe(nbytes), label="password")
