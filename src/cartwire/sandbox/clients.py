"""Plain authenticated HTTP clients for a running sandbox, for seeding, tests and benchmarks.

They speak the wire format directly (a token by HTTP Basic + form for commercetools, by JSON body
for Commerce Layer) and import none of cartwire's client code, so what they see is what the
sandbox really answers.
"""

from typing import Any

import httpx

from cartwire.sandbox.manager import COMMERCETOOLS, Sandbox


def token(sandbox: Sandbox) -> str:
    creds = sandbox.credentials
    url = f"{creds['auth_url']}/oauth/token"
    if sandbox.platform == COMMERCETOOLS:
        response = httpx.post(
            url,
            auth=(creds["client_id"], creds["client_secret"]),
            data={"grant_type": "client_credentials", "scope": creds["scope"]},
            timeout=30,
        )
    else:
        response = httpx.post(
            url,
            json={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "scope": creds["scope"],
            },
            timeout=30,
        )
    response.raise_for_status()
    value: str = response.json()["access_token"]
    return value


def api_client(sandbox: Sandbox, timeout: float = 60) -> httpx.Client:
    """A client whose relative paths are resources: `products` (commercetools), `skus` (CL)."""
    creds = sandbox.credentials
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    if sandbox.platform == COMMERCETOOLS:
        base = f"{creds['api_url']}/{creds['project_key']}/"
    else:
        base = f"{creds['api_url']}/api/"
        headers["Accept"] = "application/vnd.api+json"
    return httpx.Client(base_url=base, headers=headers, timeout=timeout)


def all_attributes(client: httpx.Client, kind: str, fields: str) -> list[dict[str, Any]]:
    """The attributes of every record of a Commerce Layer collection (`fields[kind]` only),
    walked by id keyset, from an `api_client` of the Commerce Layer sandbox."""
    found: list[dict[str, Any]] = []
    last = ""
    while True:
        query = {"sort": "id", "page[size]": "25", f"fields[{kind}]": fields}
        if last:
            query["filter[q][id_gt]"] = last
        response = client.get(kind, params=query)
        response.raise_for_status()
        data = response.json()["data"]
        found += [item["attributes"] for item in data]
        if len(data) < 25:
            return found
        last = data[-1]["id"]
