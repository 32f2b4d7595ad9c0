"""Debian packages the tests need (Chromium, PostgreSQL), installed with apt when missing."""

from __future__ import annotations

import os
import shutil
import subprocess


class AptUnavailable(RuntimeError):
    """The package could not be installed: no apt-get, no rights, or apt failed (its words)."""


def apt_install(package: str) -> None:
    """``apt-get update`` and ``apt-get install -y --no-install-recommends package`` (with ``sudo -n``
    unless root), or ``AptUnavailable`` saying why not."""
    if shutil.which("apt-get") is None:
        raise AptUnavailable(f"{package} is missing and there is no apt-get to install it with")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", package],
    ):
        done = subprocess.run(sudo + command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise AptUnavailable(
                f"could not install {package} with apt ({' '.join(command)}): {done.stderr[-2000:]}"
            )
