"""Every public function in frames.analytics and frames.plots has a docstring with a runnable
example, and every example runs and shows what it says."""

from __future__ import annotations

import doctest
import inspect

import pytest

from toolkit.frames import analytics, plots


@pytest.mark.parametrize("module", [analytics, plots], ids=lambda m: m.__name__)
def test_every_public_function_has_an_example_that_runs(module):
    public = [
        name for name, fn in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and fn.__module__ == module.__name__
    ]  # fmt: skip
    missing = [name for name in public if ">>>" not in (getattr(module, name).__doc__ or "")]
    assert not missing, f"no runnable example in: {missing}"
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 * len(public) and result.failed == 0
