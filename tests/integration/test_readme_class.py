"""The README's "Serving a class" section, run as written: its shell commands on a throwaway
PostgreSQL server (the commands' default connection pointed at it with PGHOST), its notebook code
in fresh interpreters, from the machine's network address as a student's laptop would come."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

import toolkit.sandbox
from tests.integration.test_classroom import _lan_address
from tests.postgres import SUPERUSER
from toolkit.sandbox.process import free_port, wait_until_up
from toolkit.venues.eip712 import Wallet

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3_600_000

pytestmark = pytest.mark.moves_clock


def _section() -> tuple[list[str], list[str], str]:
    """The section's server commands, its second shell block, and its notebook code."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Serving a class from one server, on PostgreSQL", 1)[1].split("\n## ", 1)[0]
    section = section.split("\n### ", 1)[0]
    bash = re.findall(r"```bash\n(.*?)```", section, re.S)
    python = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(bash) == 2 and len(python) == 1, "the section's shape changed: update this test with it"

    def commands(block: str) -> list[str]:
        return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]

    return commands(bash[0]), commands(bash[1]), python[0]


def test_the_readme_class_section_runs_as_written(tmp_path, postgres):
    server_commands, token_commands, notebook = _section()
    home = tmp_path / "teacher"
    (home / ".toolkit").mkdir(parents=True)
    # a sandbox the teacher already used in a notebook: what `migrate` carries over
    used = Wallet.generate()
    with toolkit.sandbox.start(home=home / ".toolkit", log_level="warning") as sb:
        sb.deposit("hyperliquid", used.address, 1_234)
        clock_before = sb.now_ms()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOLKIT_", "PG"))}
    env |= {
        # logged in as "teacher": libpq's default role is the login's, PostgreSQL's the local socket's
        "HOME": str(home), "USER": "teacher", "PGUSER": "teacher", "PGHOST": str(postgres.socket_dir),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(postgres.bin), env.get("PATH", "")]),
    }  # fmt: skip
    port = free_port()
    server = None
    try:
        for command in server_commands:
            argv = shlex.split(_expand(command, env), comments=True)
            if argv[:2] == ["sudo", "apt-get"]:  # tests/postgres.py installs the same package when missing
                assert argv[-1] == "postgresql" and postgres.bin.exists()
                continue
            run_env = env
            if argv[:3] == ["sudo", "-u", "postgres"]:  # the server's admin role: here the throwaway's
                argv, run_env = argv[3:], env | {"PGUSER": SUPERUSER}
            if argv[0] == "export":
                name, value = argv[1].split("=", 1)
                env[name] = value
                continue
            if argv[:2] == ["toolkit", "sandbox"] and "--host" in argv:
                argv[argv.index("--port") + 1] = str(port)
                server = subprocess.Popen(
                    argv, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                wait_until_up(f"http://127.0.0.1:{port}", server)
                continue
            done = subprocess.run(argv, env=run_env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        assert server is not None, "the section starts no sandbox"

        (cat,) = token_commands
        token = subprocess.run(
            shlex.split(cat.replace("~", str(home))), capture_output=True, text=True, check=True
        )
        url = f"http://{_lan_address()}:{port}"
        code = notebook.replace("http://class-server:8765", url)
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
            env=env | {"TOOLKIT_SANDBOX_ADMIN_TOKEN": token.stdout.strip(), "TOOLKIT_HOME": str(tmp_path / "laptop")},
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert float(run.stdout.strip()) > 9_000  # the student's account value, printed

        # what the sandbox serves now: the migrated notebook's account, the day moved, on PostgreSQL
        sb = toolkit.sandbox.connect(f"http://127.0.0.1:{port}")
        assert sb.now_ms() - clock_before >= 24 * HOUR
        state = httpx.post(f"{url}/info", json={"type": "clearinghouseState", "user": used.address}).json()
        assert state["marginSummary"]["accountValue"] == "1234"
        engine = sa.create_engine(
            "postgresql+psycopg:///toolkit_class",
            connect_args={"host": str(postgres.socket_dir), "user": "teacher"},
        )
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from px_users")).scalar_one() == 1
        engine.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


def _expand(command: str, env: dict[str, str]) -> str:
    """What the shell would make of ``~`` and ``$NAME`` in ``command``, in ``env``."""
    command = re.sub(r"(?<![\w/])~(?=/)", env["HOME"], command)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), command)
