"""EVM addresses as every venue takes them: exactly 0x and 40 ASCII hex digits, lower-cased."""

from __future__ import annotations

import pytest

from toolkit.venues.eip712 import checked_address
from toolkit.venues.hyperliquid import user_address

GOOD = "0x" + "aB" * 20


def test_a_good_address_comes_back_lower_case():
    assert checked_address(GOOD) == GOOD.lower() == user_address(GOOD)


@pytest.mark.parametrize(
    "bad",
    [
        "0x" + "1" * 39 + " ",  # int(..., 16) takes surrounding spaces
        "0x" + "12_3" * 10,  # ...and underscores between digits
        "0x" + "١" * 40,  # ...and other scripts' digits
        "0X" + "1" * 40,
        "0x" + "1" * 41,
        "1" * 42,
        None,
        42,
        "0x" + "g" * 40,
    ],
)
def test_anything_else_is_refused_with_the_field_named(bad):
    with pytest.raises(ValueError, match=r"^sourceAddr must be a 0x address of 40 hex digits$"):
        checked_address(bad, "sourceAddr")
    with pytest.raises(ValueError, match=r"^user must be a 0x address of 40 hex digits$"):
        user_address(bad)
