"""What a newcomer finds by poking at the package: every main part by attribute and in dir(), a map
in help(), nothing heavy loaded by `import toolkit`, and notebook prose that renders as written."""

from __future__ import annotations

import json
import pydoc
import re
import subprocess
import sys
from pathlib import Path

import toolkit

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
PARTS = ["frames", "keystore", "sandbox", "secrets", "setup", "times", "venues", "widgets"]


def test_the_main_parts_are_attributes_listed_by_dir():
    assert set(PARTS) | {"run", "keys", "Secret"} <= set(dir(toolkit))
    for name in PARTS:
        assert getattr(toolkit, name).__name__ == f"toolkit.{name}"
    assert toolkit.frames.Hyperliquid and toolkit.widgets.SetupWizard and toolkit.setup.check_setup
    venues = ["aster", "hyperdex", "hyperliquid", "kalshi", "lighter", "paperx", "providers"]
    assert set(venues) <= set(dir(toolkit.venues))
    for name in dir(toolkit.venues):
        assert getattr(toolkit.venues, name).__name__ == f"toolkit.venues.{name}"


def test_an_unknown_name_is_still_an_attribute_error():
    for module, name in ((toolkit, "framez"), (toolkit.venues, "binance")):
        try:
            getattr(module, name)
        except AttributeError as err:
            assert f"has no attribute {name!r}" in str(err)
        else:
            raise AssertionError(f"{name} resolved")


def test_help_gives_a_map_of_the_package():
    text = pydoc.render_doc(toolkit, renderer=pydoc.plaintext)
    for part in [*PARTS, "run(coro)"]:
        assert f"toolkit.{part}" in text, part
    assert "Hyperliquid" in pydoc.render_doc(toolkit.venues, renderer=pydoc.plaintext)


def test_import_toolkit_loads_nothing_heavy():
    heavy = [
        "fastapi",
        "pandas",
        "polars",
        "pyarrow",
        "sqlalchemy",
        "uvicorn",
        "ipywidgets",
        "plotly",
        "httpx",
    ]
    code = f"import sys, toolkit; dir(toolkit); print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def dollars_outside_code(markdown: str) -> list[str]:
    """Lines with a ``$`` outside code, which JupyterLab may pair with another into math. A backslash
    does not help: JupyterLab 4 still pairs ``\\$20 ... \\$100`` (write USD, or ``&#36;``)."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    return [line for line in text.splitlines() if "$" in line]


def test_the_dollar_check_catches_what_became_math():
    assert dollars_outside_code("plan ($10,000 of virtual balance); pass for $100,000.")
    assert dollars_outside_code("around \\$20,000 of notional, light on a \\$100,000 account")
    assert not dollars_outside_code("plan (10,000 USD); `price > $10` and\n```\nx = '$'\n```")


def test_no_notebook_prose_turns_into_math():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"])
                assert not dollars_outside_code(source), (
                    f"{path.name} cell {i}: {dollars_outside_code(source)}"
                )


def user_facing_modules() -> list[str]:
    """Every module a user imports from: all but the sandbox server's insides (the ``toolkit.sandbox``
    handle itself is in), the typed wire models (named as the venues' docs name them) and private
    modules."""
    import pkgutil

    names = ["toolkit"]
    for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        name = info.name
        private = any(part.startswith("_") for part in name.split("."))
        if private or name.startswith("toolkit.sandbox.") or name.endswith("_wire") or name == "toolkit.cli":
            continue
        names.append(name)
    return names


def test_every_public_class_and_function_says_what_it_is_for():
    import importlib
    import inspect

    missing = []
    for name in user_facing_modules():
        module = importlib.import_module(name)
        if not module.__doc__:
            missing.append(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if (inspect.isfunction(obj) and not obj.__doc__) or (
                inspect.isclass(obj) and obj.__doc__ is None
            ):
                missing.append(f"{name}.{attr}")
            if inspect.isclass(obj):
                for method, value in vars(obj).items():
                    function = (
                        value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                    )
                    if not method.startswith("_") and inspect.isfunction(function) and not function.__doc__:
                        missing.append(f"{name}.{attr}.{method}")
    assert len(user_facing_modules()) > 40
    assert missing == []


def test_user_facing_words_name_venues_as_users_know_them():
    """No seed numbers or inside names in help(), the README or the notebooks (code comments may keep
    them)."""
    import importlib

    inside = re.compile(r"seed 00\d|RSA-keyed", re.I)
    texts = {name: importlib.import_module(name).__doc__ or "" for name in user_facing_modules()}
    for name in user_facing_modules():
        for attr, obj in vars(importlib.import_module(name)).items():
            if getattr(obj, "__module__", None) == name and getattr(obj, "__doc__", None):
                texts[f"{name}.{attr}"] = obj.__doc__
    root = Path(__file__).resolve().parents[2]
    texts["README.md"] = (root / "README.md").read_text()
    for path in NOTEBOOKS:
        texts[path.name] = path.read_text()
    assert [where for where, text in texts.items() if inside.search(text)] == []
