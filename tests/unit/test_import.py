import subprocess
import sys

HEAVY = ["fastapi", "uvicorn", "sqlalchemy", "pandas", "polars", "starlette", "argon2", "jwt", "pydantic"]


def test_import_toolkit_stays_light():
    code = (
        "import sys, toolkit, toolkit.sandbox, toolkit.secrets;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_names_resolve():
    import toolkit

    assert toolkit.PaperClient.__name__ == "PaperClient"
    assert toolkit.Secret.__name__ == "Secret"
    assert "sandbox" in dir(toolkit)
