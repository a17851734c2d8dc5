"""Test connectors of our own, so flow tests do not move with the built-in connector files."""

from textwrap import dedent
from typing import Any

import yaml

from cartwire.connectors import Connector
from cartwire.flows import Flow, load_flow

_AUTH = """
auth_methods:
  - key: oauth
    name: OAuth
    fields: [{key: client_id, label: Client ID, required: true}]
    token: {url: "https://auth.example.com/token", client_auth: body, params_in: form,
            params: {grant_type: client_credentials}, token_key: access_token}
    base_url: https://api.example.com
"""

COMMERCETOOLS = f"""
name: commercetools
title: commercetools (test)
description: endpoints as flows need them
docs: [https://docs.commercetools.com/]
{_AUTH}
endpoints:
  - name: products
    entity: product
    direction: both
    path: products
    filters:
      - {{key: where, param: where, repeat: true}}
      - {{key: var.*, param: var.*, repeat: true}}
      - {{key: staged, param: staged}}
    natural_key: key
    updated_at: lastModifiedAt
    paging: {{strategy: ct_id_keyset}}
    incremental: {{strategy: ct_modified_keyset}}
    write: {{strategy: ct_products}}
  - name: inventory
    entity: inventory entry
    direction: both
    path: inventory
    natural_key: sku,supplyChannel
    paging: {{strategy: ct_id_keyset}}
    write: {{strategy: ct_inventory}}
  - name: orders/import
    entity: order
    direction: send
    path: orders/import
    natural_key: orderNumber
    write: {{strategy: ct_order_import}}
"""

COMMERCELAYER = f"""
name: commercelayer
title: Commerce Layer (test)
description: endpoints as flows need them
docs: [https://docs.commercelayer.io/]
{_AUTH}
endpoints:
  - name: skus
    entity: sku
    direction: both
    path: skus
    natural_key: code
    updated_at: updated_at
    paging: {{strategy: cl_id_keyset}}
    write: {{strategy: commercelayer}}
  - name: prices
    entity: price
    direction: send
    path: prices
    natural_key: sku_code,price_list
    write: {{strategy: commercelayer}}
  - name: events
    entity: event
    direction: send
    path: events
    write: {{strategy: commercelayer}}
  - name: orders
    entity: order
    direction: receive
    path: orders
    filters: [{{key: q.*, param: "filter[q][*]"}}]
    updated_at: updated_at
    paging: {{strategy: cl_id_keyset}}
    incremental: {{strategy: cl_updated_keyset}}
"""


def connector(text: str) -> Connector:
    return Connector.model_validate(yaml.safe_load(text))


REGISTRY = {c.name: c for c in (connector(COMMERCETOOLS), connector(COMMERCELAYER))}


def flow(text: str) -> Flow:
    """A flow from YAML text (dedented), checked against the test connectors."""
    return load_flow(dedent(text).strip() + "\n", registry=REGISTRY)


def minimal(**parts: Any) -> dict[str, Any]:
    """A valid flow as data, with `parts` replacing or adding top-level keys."""
    base: dict[str, Any] = {
        "name": "test-flow",
        "source": {"connector": "commercetools", "endpoint": "products"},
        "destination": {"connector": "commercelayer", "endpoint": "skus"},
    }
    return {**base, **parts}


def as_text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)
