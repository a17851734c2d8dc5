"""The shape of a connector file, validated on load so that a broken file fails at start-up with
the path of the problem, not later in the middle of a sync.

A connector is data: its credential fields (in the order the platform's page lists them), how the
token is requested, and its base URLs, its endpoints and the strategies (paginators, writers,
throttles) it reads and writes them with, by name. A key marked with a registry `Kind`
(`Annotated[..., PAGINATOR]`) names something registered in `cartwire.platforms.registry`; the
loader checks every such name when the file loads (`cartwire.connectors.strategy_names`).
"""

import re
from string import Formatter
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from cartwire.platforms.registry import PAGINATOR, THROTTLE, WRITER


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialField(_Strict):
    """One value the user supplies when adding an instance (a Patchworks "auth variable")."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    required: bool = False
    default: str | None = None
    secret: bool = False
    advanced: bool = False
    help: str = ""
    kind: Literal["text", "url"] = "text"
    choices: list[str] | None = None
    # Choices are only enforced while none of these fields is set (e.g. a region is free-form
    # once the user gives explicit URLs for a host outside the known regions).
    choices_unless_set: list[str] = []
    pattern: str | None = None
    expected: str | None = None
    # A list field (e.g. space-separated scopes): `pattern` applies to each item.
    list_separator: str | None = None
    # Named groups of `pattern` that must equal another field's value (scope ↔ project key).
    group_equals: dict[str, str] = {}

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            re.compile(pattern)
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.pattern and not self.expected:
            raise ValueError(f"field {self.key!r}: a pattern needs `expected` (shown on mismatch)")
        if self.default is not None and self.choices and self.default not in self.choices:
            raise ValueError(f"field {self.key!r}: default {self.default!r} is not a choice")
        if self.group_equals and not self.pattern:
            raise ValueError(f"field {self.key!r}: group_equals needs a pattern")
        return self


class TokenRateLimit(_Strict):
    """How many token requests the platform allows (Commerce Layer: 30 a minute per IP): every
    token request of a deployment is booked against it first, so N workers wait rather than
    being refused."""

    requests: int = Field(gt=0)
    per_seconds: float = Field(gt=0)


class TokenRequest(_Strict):
    """How the platform wants to be asked for a token (every string may use {field} templates)."""

    url: str
    # basic: client id and secret by HTTP Basic; body: as client_id/client_secret parameters.
    client_auth: Literal["basic", "body"]
    # Where the parameters go: a form body, a JSON body, or the query string.
    params_in: Literal["form", "json", "query"]
    params: dict[str, str]
    token_key: str
    expires_key: str = "expires_in"
    scope_key: str = "scope"
    rate_limit: TokenRateLimit | None = None


class AuthMethod(_Strict):
    key: str
    name: str
    fields: list[CredentialField]
    token: TokenRequest
    # Values for optional fields left empty, e.g. the auth host built from the region.
    defaults: dict[str, str] = {}
    base_url: str

    @model_validator(mode="after")
    def _templates_resolve(self) -> Self:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"auth method {self.key!r}: duplicate field keys")
        known = set(keys)
        templates = [
            self.token.url,
            self.token.token_key,
            self.base_url,
            *self.token.params.values(),
            *self.defaults.values(),
        ]
        for template in templates:
            missing = template_fields(template) - known
            if missing:
                raise ValueError(f"template {template!r} names unknown fields {sorted(missing)}")
        for field in self.fields:
            for other in [*field.choices_unless_set, *field.group_equals.values()]:
                if other not in known:
                    raise ValueError(f"field {field.key!r} refers to unknown field {other!r}")
        return self

    def field(self, key: str) -> CredentialField:
        for field in self.fields:
            if field.key == key:
                return field
        raise KeyError(key)


class ByName(_Strict):
    """A strategy picked by name; `paging: page_number` is short for `{strategy: page_number}`
    (how people write it, and how the docs name the kinds)."""

    strategy: str

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data: Any) -> Any:
        return {"strategy": data} if isinstance(data, str) else data


class Paging(ByName):
    """A paging strategy by name (a registered paginator) and its options."""

    page_size: int | None = Field(default=None, ge=1)
    options: dict[str, Any] = {}


class EndpointFilter(_Strict):
    """A user-settable query parameter (Patchworks: an optional parameter shown as a filter).

    A key ending in `.*` names a family of parameters, and the `*` of its param is replaced by
    the NAME the user gives: `key: var.*, param: var.*` accepts any `var.NAME` and sends it
    under that name (predicate variables, as in `where=sku in :skus` with
    `var.skus=A&var.skus=B`); `key: q.*, param: "filter[q][*]"` turns `q.code_start` into
    `filter[q][code_start]` (any Ransack predicate).
    """

    key: str
    param: str
    help: str = ""
    repeat: bool = False  # may be given several times (a `where` predicate each)

    @model_validator(mode="after")
    def _family(self) -> Self:
        if self.key.endswith(".*") != (self.param.count("*") == 1):
            raise ValueError(f"filter {self.key!r}: a family (.*) key needs a param with one *")
        return self

    def param_for(self, name: str) -> str | None:
        """The query parameter a user filter `name` becomes, or None if this is not its filter."""
        if not self.key.endswith(".*"):
            return self.param if name == self.key else None
        prefix = self.key[:-1]
        if name.startswith(prefix) and len(name) > len(prefix):
            return self.param.replace("*", name[len(prefix) :])
        return None


class Strategy(ByName):
    """A named piece of platform behaviour (a writer, a throttle) plus its options."""

    options: dict[str, Any] = {}


class Endpoint(_Strict):
    """One collection of records on the platform, and how to read and write it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_/-]*$")
    entity: str
    direction: Literal["receive", "send", "both"]
    description: str = ""
    method: Literal["GET", "POST"] = "GET"
    path: str
    params: dict[str, str] = {}
    filters: list[EndpointFilter] = []
    data_path: str | None = None
    # How records are laid out: plain JSON objects (at `data_path`), or the resources of a
    # JSON:API document, flattened as `cartwire.resources.jsonapi` does (by reads and by the
    # jsonapi writer alike).
    format: Literal["json", "jsonapi"] = "json"
    primary_key: str = "id"
    natural_key: str | None = None
    updated_at: str | None = None
    paging: Annotated[Paging | None, PAGINATOR] = None
    incremental: Annotated[Paging | None, PAGINATOR] = None
    write: Annotated[Strategy | None, WRITER] = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.direction in ("receive", "both") and self.paging is None:
            raise ValueError(f"endpoint {self.name!r} receives records but has no paging")
        if self.direction in ("send", "both") and self.write is None:
            raise ValueError(f"endpoint {self.name!r} sends records but has no write strategy")
        if self.incremental is not None and self.updated_at is None:
            raise ValueError(f"endpoint {self.name!r}: incremental reads need updated_at")
        if self.format == "jsonapi" and self.data_path is not None:
            raise ValueError(
                f"endpoint {self.name!r}: format jsonapi reads the document's data and included "
                "resources; remove data_path"
            )
        return self

    @property
    def receives(self) -> bool:
        return self.direction in ("receive", "both")

    @property
    def sends(self) -> bool:
        return self.direction in ("send", "both")


class Connector(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    description: str
    docs: list[HttpUrl]
    auth_methods: list[AuthMethod] = Field(min_length=1)
    # Headers every API request carries (e.g. the JSON:API media type).
    headers: dict[str, str] = {}
    # The platform's own limits, enforced before requests are sent (a registered throttle).
    throttle: Annotated[Strategy | None, THROTTLE] = None
    endpoints: list[Endpoint] = []

    @model_validator(mode="after")
    def _unique_endpoints(self) -> Self:
        names = [e.name for e in self.endpoints]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate endpoint names: {', '.join(duplicates)}")
        return self

    def endpoint(self, name: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        known = ", ".join(e.name for e in self.endpoints) or "none"
        raise KeyError(f"connector {self.name!r} has no endpoint {name!r} (known: {known})")

    def auth_method(self, key: str | None = None) -> AuthMethod:
        """The named auth method, or the first (the platform's usual one) when none is named."""
        if key is None:
            return self.auth_methods[0]
        for method in self.auth_methods:
            if method.key == key:
                return method
        known = ", ".join(m.key for m in self.auth_methods)
        raise KeyError(f"connector {self.name!r} has no auth method {key!r} (known: {known})")


def key_fields(key: str | None) -> tuple[str, ...]:
    """The fields of a natural key as connector and flow files write it: `code`, or a composite
    such as `sku,supplyChannel`; none for no key."""
    return tuple(part.strip() for part in (key or "").split(",") if part.strip())


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, values: dict[str, str]) -> str:
    """Fill {field} placeholders; a field left empty renders as an empty string."""
    return template.format_map(_Blank(values))
