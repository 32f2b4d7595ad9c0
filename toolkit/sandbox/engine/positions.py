"""Open positions as columns (numpy struct-of-arrays), so an hourly tick over every position is a
handful of vector operations rather than a Python loop."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray


class PositionTable:
    """One row per open (account, coin) position; closed rows are swap-removed to stay dense."""

    FIELDS: ClassVar[dict[str, type]] = {
        "account": np.int64,
        "coin": np.int64,
        "szi": np.float64,
        "entry": np.float64,
        "leverage": np.float64,
        "isolated": np.bool_,
        "iso_margin": np.float64,
        "cum_funding": np.float64,
    }

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.cols: dict[str, NDArray] = {k: np.zeros(capacity, dtype=t) for k, t in self.FIELDS.items()}
        self.index: dict[tuple[int, int], int] = {}
        self.coins_of: dict[int, set[int]] = {}  # account -> coins it holds, for per-account reads

    def rows_of(self, account: int) -> NDArray[np.int64]:
        """The rows of one account's positions, without scanning the table."""
        coins = self.coins_of.get(account)
        if not coins:
            return np.empty(0, dtype=np.int64)
        return np.fromiter((self.index[(account, c)] for c in sorted(coins)), dtype=np.int64)

    def __len__(self) -> int:
        return self.n

    def __getattr__(self, name: str) -> NDArray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def row(self, account: int, coin: int) -> int | None:
        return self.index.get((account, coin))

    def add(self, account: int, coin: int, **values: float) -> int:
        if self.n == len(self.cols["szi"]):
            for k, col in self.cols.items():
                self.cols[k] = np.concatenate([col, np.zeros_like(col)])
        i = self.n
        self.n += 1
        for col in self.cols.values():
            col[i] = 0
        self.cols["account"][i], self.cols["coin"][i] = account, coin
        for k, v in values.items():
            self.cols[k][i] = v
        self.index[(account, coin)] = i
        self.coins_of.setdefault(account, set()).add(coin)
        return i

    def get(self, i: int, name: str) -> float:
        return self.cols[name][i].item()

    def set(self, i: int, name: str, value: float) -> None:
        self.cols[name][i] = value

    def remove(self, i: int) -> None:
        last = self.n - 1
        key = (int(self.cols["account"][i]), int(self.cols["coin"][i]))
        del self.index[key]
        self.coins_of[key[0]].discard(key[1])
        if i != last:
            for col in self.cols.values():
                col[i] = col[last]
            self.index[(int(self.cols["account"][i]), int(self.cols["coin"][i]))] = i
        self.n = last
