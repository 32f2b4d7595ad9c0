"""Notebook widgets: ``SetupWizard``, ``KeyPanel`` and ``AccountDashboard``.

Each is a thin ipywidgets view over a plain class that holds the logic and can be driven without
a kernel: ``SetupFlow``, ``KeyInventory`` and ``AccountWatch``. An exception in a callback is
shown in the widget (its ``error`` line) and raised again, so it is never silent.
"""

from __future__ import annotations

from toolkit.widgets.account import AccountWatch, Snapshot
from toolkit.widgets.dashboard import AccountDashboard
from toolkit.widgets.key_inventory import KeyInventory
from toolkit.widgets.key_panel import KeyPanel
from toolkit.widgets.setup_flow import SetupFlow
from toolkit.widgets.wizard import SetupWizard

__all__ = [
    "AccountDashboard",
    "AccountWatch",
    "KeyInventory",
    "KeyPanel",
    "SetupFlow",
    "SetupWizard",
    "Snapshot",
]
