"""Property-based fuzzing of the sandbox's own OpenAPI schema: no generated request may get a 5xx.

Half of the generated requests carry a valid login (or bot key) so the fuzzing reaches past the
auth checks. The clock route is fuzzed last, since moving time ends every login.
"""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

import toolkit.sandbox
from toolkit.secrets import generate_password
from toolkit.venues import kalshi as ks
from toolkit.venues.paperx import PaperClient

pytestmark = pytest.mark.heavy

MIN_CASES = 500
# make test's count (about 1,600 cases over the schema's operations); `make fuzz` runs 200 each
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CASES: list[str] = []


@pytest.fixture(scope="module")
def fuzz_sandbox(tmp_path_factory):
    with toolkit.sandbox.start(home=tmp_path_factory.mktemp("fuzz")) as sb:
        yield sb


@pytest.fixture(scope="module")
def credentials(fuzz_sandbox):
    client = PaperClient(fuzz_sandbox)
    # pro: 500 requests a minute per key, so the rate limit seldom answers in the routes' place
    client.register(f"fuzz-{uuid.uuid4().hex[:8]}@example.com", generate_password(), plan="pro")
    key = client.create_api_key("fuzz bot")
    member = fuzz_sandbox.kalshi_member(usage_level="prestige")  # the top rate budget
    pair = ks.KeyPair.generate()
    with ks.KalshiClient(fuzz_sandbox, session_token=member.session_token) as web:
        rsa_key_id = web.create_api_key("fuzz", pair.public_key)
    # Kept as Secrets so a failure report (which prints fixture values) shows only masks.
    return {
        "bearer": client.access_token,
        "key": key.api_key,
        "session": member.session_token,
        "rsa_key_id": rsa_key_id,
        "rsa_key": pair.private_key,
    }


@pytest.fixture(scope="module")
def api_schema(fuzz_sandbox):
    return schemathesis.openapi.from_url(f"{fuzz_sandbox.url}/openapi.json")


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
CLOCK_ROUTES = ("/sandbox/clock/advance", "/sandbox/clock/advance-to")


def _operations(api_schema):
    ops = [result.ok() for result in api_schema.get_all_operations()]
    # Moving the clock ends every login, so the clock route goes last.
    return sorted(ops, key=lambda op: op.path in CLOCK_ROUTES)


def _authenticate(case, credentials) -> None:
    """Two cases in three carry real credentials in place of the generated ones; the third keeps
    whatever schemathesis generated, so malformed auth headers are fuzzed too."""
    pick = len(CASES) % 3
    if pick == 2:
        return
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in AUTH_HEADERS}
    if case.operation.path.startswith(ks.API_PREFIX):
        if pick == 0:
            headers["Authorization"] = f"Bearer {credentials['session'].reveal()}"
        else:
            private_key = ks.load_private_key(credentials["rsa_key"])
            path = case.formatted_path
            headers |= ks.signed_headers(credentials["rsa_key_id"], private_key, case.method, path)
    elif pick == 0:
        headers["Authorization"] = f"Bearer {credentials['bearer'].reveal()}"
    else:
        headers["X-API-Key"] = credentials["key"].reveal()
    case.headers = headers


AUTH_HEADERS = {
    "authorization",
    "x-api-key",
    "kalshi-access-key",
    "kalshi-access-timestamp",
    "kalshi-access-signature",
}
AUTHENTICATED: list[str] = []


def test_no_generated_request_gets_a_server_error(api_schema, credentials, fuzz_sandbox):
    # schemathesis's lazy pytest fixture does not work with pytest 9, so its strategies are
    # driven with hypothesis directly; the requests still go over real HTTP to the sandbox.
    operations = _operations(api_schema)
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @FUZZ
        def check(case):
            _authenticate(case, credentials)
            response = case.call(base_url=fuzz_sandbox.url, timeout=120)  # not 10 s: CI machines get busy
            CASES.append(case.operation.label)
            if response.status_code not in (401, 403):
                AUTHENTICATED.append(case.operation.label)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        check()
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} generated cases ran"
    # the fuzzing reached past authentication on every authenticated route
    assert {
        "GET /v1/auth/me",
        "POST /v1/auth/api-keys",
        "DELETE /v1/auth/api-keys/{key_id}",
        "POST /trade-api/v2/api_keys",
        "POST /trade-api/v2/api_keys/generate",
        "GET /trade-api/v2/api_keys",
        "DELETE /trade-api/v2/api_keys/{api_key}",
        "GET /trade-api/v2/portfolio/balance",
    } <= set(AUTHENTICATED)
