from ..integration.conftest import account, http, new_account, sandbox  # noqa: F401
