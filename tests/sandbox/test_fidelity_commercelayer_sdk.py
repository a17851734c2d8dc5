"""The official Commerce Layer JS clients, unchanged, against our Commerce Layer sandbox.

`js/cl_official_clients.mjs` runs `@commercelayer/js-auth` and `@commercelayer/sdk` (pinned in
package.json) through a fetch that only rewrites their forced https origins to the sandbox, and
prints what each step saw. Where they and the sandbox disagree, the sandbox is wrong.
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cartwire.sandbox.manager import Sandbox

SCRIPT = Path(__file__).parent / "js" / "cl_official_clients.mjs"


@pytest.fixture
def report(cl: Sandbox) -> dict[str, Any]:
    creds = cl.credentials
    env = {
        **os.environ,
        "CL_URL": cl.url,
        "CL_ORG": creds["domain"],
        "CL_CLIENT_ID": creds["client_id"],
        "CL_CLIENT_SECRET": creds["client_secret"],
        "CL_SCOPE": creds["scope"],
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_js_auth_gets_a_token_the_sdk_can_read(report: dict[str, Any], cl: Sandbox) -> None:
    auth = report["authenticate"]["ok"]
    assert auth["keys"] == sorted(
        ["accessToken", "tokenType", "expiresIn", "scope", "createdAt", "expires"]
    )
    assert auth["tokenType"] == "bearer"
    assert auth["scope"] == cl.credentials["scope"]
    assert auth["organization"] == cl.credentials["domain"]
    assert auth["kind"] == "integration"
    assert auth["test"] is True


def test_js_auth_sees_invalid_client(report: dict[str, Any]) -> None:
    errors = report["bad_credentials"]["ok"]["errors"]
    assert errors[0]["title"] == "invalid_client"
    assert errors[0]["code"] == "UNAUTHORIZED"


def test_sdk_crud_paging_filter_include(report: dict[str, Any]) -> None:
    assert "ok" in report["organization_from_token"], report["organization_from_token"]
    assert report["create"]["ok"]["codes"][0] == "SDK-001"
    assert report["create"]["ok"]["type"] == "skus"
    page = report["list_page_filter"]["ok"]
    assert page == {
        "codes": ["SDK-006", "SDK-007", "SDK-008", "SDK-009", "SDK-010"],
        "recordCount": 12,
        "pageCount": 3,
        "currentPage": 2,
    }
    assert report["include"]["ok"] == {"shippingCategoryCode": "merchandise"}
    assert report["update"]["ok"] == {"name": "Renamed by the SDK"}
    assert report["delete"]["ok"] == {"remaining": 0}


def test_sdk_sees_validation_errors(report: dict[str, Any]) -> None:
    duplicate = report["duplicate_code"]["error"]
    assert duplicate["status"] == 422
    assert duplicate["errors"][0]["code"] == "VALIDATION_ERROR"
    assert duplicate["errors"][0]["meta"]["error"] == "taken"
    assert duplicate["errors"][0]["source"]["pointer"] == "/data/attributes/code"
    missing = report["missing_relationship"]["error"]
    assert missing["status"] == 422
    assert missing["errors"][0]["meta"]["error"] == "blank"
    assert missing["errors"][0]["source"]["pointer"] == "/data/relationships/shipping_category"
