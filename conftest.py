"""Every test and notebook run gets its own TOOLKIT_HOME, never the user's ~/.toolkit."""

import os
import tempfile

pytest_plugins = ["pytester"]  # for the tests of the test rules themselves

os.environ["TOOLKIT_HOME"] = tempfile.mkdtemp(prefix="toolkit-test-home-")
os.environ.pop("TOOLKIT_SANDBOX_URL", None)
os.environ.pop("TOOLKIT_DATABASE_URL", None)
os.environ.pop("TOOLKIT_SMTP_URL", None)


def _is_notebook_cell(item) -> bool:
    return hasattr(item, "cell_num")  # nbval's cell items


def pytest_collection_modifyitems(config, items):
    """Each notebook's cells back in their own order (the shuffle, which runs first, mixes them),
    then the notebooks and the long modules (marked ``heavy``) first, each keeping its order: in the
    parallel run (``--dist loadfile``: a file stays on one process) they start at once instead of
    leaving one process busy after the others are done."""
    slots = [i for i, item in enumerate(items) if _is_notebook_cell(item)]
    cells = sorted((items[i] for i in slots), key=lambda item: (str(item.path), item.cell_num))
    for slot, cell in zip(slots, cells, strict=True):
        items[slot] = cell
    items.sort(key=lambda item: not (_is_notebook_cell(item) or item.get_closest_marker("heavy")))
