from ..integration.conftest import account, http, new_account, sandbox, shared_sandbox  # noqa: F401
