"""The Binder files against repo2docker's rules: a runtime it honours that satisfies the package's
requires-python, requirements that resolve on that Python, and a `start` that serves the sandbox a
notebook then attaches to. The full check (a fresh venv, every notebook) is `make binder-check`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest
from packaging.specifiers import SpecifierSet

from toolkit.sandbox import owner
from toolkit.sandbox.process import free_port

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def runtime_python() -> str:
    """The Python version binder/runtime.txt asks for, as repo2docker reads it (python-X.Y)."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"runtime.txt must be python-X.Y for repo2docker, not {text!r}"
    return match.group(1)


def test_the_runtime_is_one_the_package_accepts():
    version = runtime_python()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{version}.0" in SpecifierSet(requires), (version, requires)
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == version, (
        "run this check on the runtime's Python"
    )


def test_the_requirements_resolve_on_that_python():
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", "-", "-r", str(BINDER / "requirements.txt")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-3000:]
    names = {item["metadata"]["name"].lower() for item in json.loads(report.stdout)["install"]}
    assert {"toolkit", "jupyterlab", "ipywidgets", "lighter-sdk"} <= names
    # every package a notebook imports comes with them (binder-check found notebook 06's SDK missing)
    imported = set()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                imported |= set(re.findall(r"^\s*(?:import|from) ([a-z_]+)", source, flags=re.M))
    distribution = {
        "eth_account": "eth-account",
        "hyperliquid": "hyperliquid-python-sdk",
        "lighter": "lighter-sdk",
    }
    stdlib = set(sys.stdlib_module_names)
    needed = {distribution.get(m, m) for m in imported - stdlib}
    assert needed - names == set(), f"notebooks import what Binder does not install: {needed - names}"


def test_start_serves_the_sandbox_and_a_notebook_attaches_to_it(tmp_path):
    start = BINDER / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable"
    port = free_port()
    env = os.environ | {
        "HOME": str(tmp_path),
        "SANDBOX_PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("TOOLKIT_HOME", None)
    notebook = tmp_path / "attach.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os, toolkit\n"
            "sb = toolkit.sandbox.start()\n"
            "assert not sb.owned and sb.url == os.environ['TOOLKIT_SANDBOX_URL'], sb\n"
            "print(sb.status())"
        )
    ]
    nbformat.write(nb, notebook)
    runner = f"import nbformat, nbclient; nb = nbformat.read({str(notebook)!r}, 4); nbclient.NotebookClient(nb, timeout=120).execute()"
    try:
        ran = subprocess.run(
            [str(start), sys.executable, "-c", runner], env=env, capture_output=True, text=True, timeout=300
        )
        assert ran.returncode == 0, ran.stderr[-3000:]
        holder = owner.read_owner(tmp_path / ".toolkit")  # $HOME/.toolkit, as on Binder
        assert holder is not None and holder.url == f"http://127.0.0.1:{port}"
        assert owner.answers(holder.url)  # still serving after the notebook's handle is gone
    finally:
        holder = owner.read_owner(tmp_path / ".toolkit")
        if holder is not None:
            os.kill(holder.pid, signal.SIGTERM)
            for _ in range(300):  # let it finish before tmp_path goes
                if not owner.answers(holder.url):
                    break
                time.sleep(0.1)


def test_the_readme_badge_launches_the_quickstart_from_the_projects_repository():
    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    owner_repo = repository.removeprefix("https://github.com/")
    badge = re.search(
        r"\[!\[Binder\]\(https://mybinder.org/badge_logo.svg\)\]\(([^)]+)\)", (ROOT / "README.md").read_text()
    )
    assert badge, "the README has no Binder badge"
    assert (
        badge.group(1)
        == f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?labpath=notebooks%2F00_quickstart.ipynb"
    )
    assert (ROOT / "notebooks" / "00_quickstart.ipynb").exists()
