"""Password hashing waits its turn (argon2id takes 64 MiB a hash), and refuses in words past its wait."""

import pytest

from toolkit.sandbox.accounts import PasswordHashing
from toolkit.sandbox.errors import ApiError


def test_a_hash_past_its_wait_is_refused_with_503_and_retry_after():
    hashing = PasswordHashing(limit=1, wait=0.01)
    with hashing._slot(), pytest.raises(ApiError) as refused:  # every slot taken while this runs
        hashing.hash("correct horse battery staple")
    assert (refused.value.status, refused.value.message) == (
        503,
        "Too many logins at once: try again shortly",
    )
    assert refused.value.headers == {"Retry-After": "2"}
    stored = hashing.hash("correct horse battery staple")  # the slot is free again
    assert stored.startswith("$argon2id$") and hashing.verify(stored, "correct horse battery staple")
