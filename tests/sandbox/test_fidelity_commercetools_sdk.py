"""The commercetools Python SDK (PyPI `commercetools`), unchanged, against our sandbox.

We did not write this client, so where it and the sandbox disagree the sandbox is wrong until the
facts say otherwise. Two environment switches are needed for plain-http loopback (facts §4.4):
`OAUTHLIB_INSECURE_TRANSPORT` and nothing else — the sandbox echoes the requested scope exactly,
so `OAUTHLIB_RELAX_TOKEN_SCOPE` must NOT be needed.
"""

from typing import Any

import pytest
from commercetools.exceptions import CommercetoolsError
from commercetools.platform import models as m
from commercetools.platform.client import Client

from cartwire.sandbox.manager import Sandbox


@pytest.fixture
def project(ct: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)
    creds = ct.credentials
    client = Client(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        scope=[creds["scope"]],
        url=creds["api_url"],
        token_url=f"{creds['auth_url']}/oauth/token",
    )
    return client.with_project_key(creds["project_key"])


def _product_type(project: Any) -> Any:
    return project.product_types().post(
        m.ProductTypeDraft(key="tshirt", name="T-Shirt", description="shirts", attributes=[])
    )


def _product(project: Any, n: int) -> Any:
    return project.products().post(
        m.ProductDraft(
            key=f"shirt-{n:03d}",
            product_type=m.ProductTypeResourceIdentifier(key="tshirt"),
            name=m.LocalizedString({"en": f"Shirt {n}"}),
            slug=m.LocalizedString({"en": f"shirt-{n}"}),
            master_variant=m.ProductVariantDraft(sku=f"SKU-{n:03d}"),
        )
    )


def test_token_list_page_filter(project: Any) -> None:
    _product_type(project)
    created = [_product(project, n) for n in range(1, 13)]
    seen: list[str] = []
    last = None
    while True:
        where = [f'id > "{last}"'] if last else None
        page = project.products().get(where=where, sort=["id asc"], limit=5, with_total=False)
        assert page.total is None
        seen += [p.id for p in page.results]
        if page.count < 5:
            break
        last = page.results[-1].id
    assert sorted(seen) == sorted(p.id for p in created)
    assert seen == sorted(seen)

    filtered = project.products().get(
        where=["key in (:a, :b)"], predicate_var={"a": ["shirt-003"], "b": ["shirt-007"]}
    )
    assert sorted(p.key for p in filtered.results) == ["shirt-003", "shirt-007"]
    assert filtered.total == 2


def test_create_update_delete(project: Any) -> None:
    _product_type(project)
    product = _product(project, 1)
    updated = (
        project.products()
        .with_id(product.id)
        .post(
            m.ProductUpdate(
                version=product.version,
                actions=[m.ProductChangeNameAction(name=m.LocalizedString({"en": "Renamed"}))],
            )
        )
    )
    assert updated.version > product.version
    assert updated.master_data.staged.name == {"en": "Renamed"}
    project.products().with_id(product.id).delete(version=updated.version)
    assert project.products().with_id(product.id).get() is None


def test_stale_version_is_a_conflict(project: Any) -> None:
    _product_type(project)
    product = _product(project, 1)
    with pytest.raises(CommercetoolsError) as raised:
        project.products().with_id(product.id).post(
            m.ProductUpdate(
                version=product.version + 5,
                actions=[m.ProductChangeNameAction(name=m.LocalizedString({"en": "x"}))],
            )
        )
    assert raised.value.errors[0]["code"] == "ConcurrentModification"


def test_wrong_delete_version_is_a_conflict(project: Any) -> None:
    _product_type(project)
    product = _product(project, 1)
    with pytest.raises(CommercetoolsError) as raised:
        project.products().with_id(product.id).delete(version=product.version + 1)
    assert raised.value.errors[0]["code"] == "ConcurrentModification"


def test_bad_credentials_are_rejected(ct: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    creds = ct.credentials
    # The SDK asks for its token in the constructor; it caches tokens per thread by client id
    # and scope, so use an id it has not seen.
    with pytest.raises(Exception, match="invalid_client"):
        Client(
            client_id="unknown-client",
            client_secret="wrong",
            scope=[creds["scope"]],
            url=creds["api_url"],
            token_url=f"{creds['auth_url']}/oauth/token",
        )
