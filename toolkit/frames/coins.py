"""Coin names as users type them: ``btc``, ``BTC``, ``BTC-PERP``, ``BTC/USDC:USDC`` (ccxt) and, on
Aster, ``BTCUSDT``, all read as the venue's own name; a near miss gets a suggestion."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# what people put after a coin: ccxt's settlement, pair quotes, perpetual markers
_TAIL = re.compile(r"(/[A-Z]+(:[A-Z]+)?|[-_ ]?(PERP|PERPETUAL|SWAP)|[-_ ]?(USDT|USDC|USD))$")


def _bases(text: str) -> list[str]:
    """``text`` (upper case) and what is left as each known tail comes off, in order."""
    out = [text]
    while True:
        shorter = _TAIL.sub("", out[-1])
        if not shorter or shorter == out[-1]:
            return out
        out.append(shorter)


def resolve(name: str, known: Iterable[str], venue: str) -> str:
    """The coin of ``known`` (the venue's own names) that ``name`` means, or ValueError with the
    nearest names. Case does not matter (Hyperliquid's ``kPEPE`` is still ``kPEPE``)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a coin name is text, such as 'BTC', not {name!r}")
    by_upper = {k.upper(): k for k in known}
    text = name.strip().upper()
    for base in _bases(text):
        if base in by_upper:
            return by_upper[base]
    near = difflib.get_close_matches(_bases(text)[-1], list(by_upper), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(by_upper[n] for n in near)}?" if near else ""
    raise ValueError(f"Unknown coin {name.strip()[:40]!r} on {venue}{hint}")
