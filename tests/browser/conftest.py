"""A real JupyterLab, started on a copy of notebooks/, and Debian's Chromium driven by Playwright.

Chromium comes from apt (``/usr/bin/chromium``; installed here when missing): Playwright never
downloads a browser. Screenshots go to ``artifacts/browser/`` and are kept after the run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.apt import AptUnavailable, apt_install
from toolkit.secrets import generate_password

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # this network is closed: no tries at Google's hosts
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _install_chromium() -> None:
    """apt-get install chromium, as the test setup promises; a clear failure where that cannot be."""
    try:
        apt_install("chromium")
    except AptUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        _install_chromium()
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of the notebooks, no token, its own settings; yields (url, root, env)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "settings"
    for plugin, values in {
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        # keep widget state in the saved notebook: the secret scan reads metadata.widgets
        "@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True},
        # every cell in the DOM, whatever is scrolled into view
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = _free_port()
    env = os.environ | {
        "TOOLKIT_HOME": str(base / "toolkit-home"),
        "TOOLKIT_KEYSTORE_PASSPHRASE": generate_password().reveal(),
        "JUPYTER_CONFIG_DIR": str(base / "jcfg"),
        "JUPYTER_RUNTIME_DIR": str(base / "jrt"),
    }
    env.pop("TOOLKIT_SANDBOX_URL", None)  # each notebook starts its own embedded sandbox
    log = (base / "lab.log").open("w")
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited: {(base / 'lab.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/status", timeout=2).is_success:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    else:
        pytest.fail("JupyterLab did not answer within 90 s")
    yield url, root, env
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """Module-scoped on purpose: sync Playwright runs an event loop on the main thread while it is
    open, and every later ``asyncio.run()`` in the session would fail against it."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
    # stop the test's kernels (each runs a sandbox and widget threads) before the next test
    url = lab[0]
    for session in httpx.get(f"{url}/api/sessions", timeout=60).json():
        httpx.delete(f"{url}/api/sessions/{session['id']}", timeout=30)
