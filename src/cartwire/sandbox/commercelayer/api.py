"""The Core API under `/api`: rate limits, bearer check, media types, then the resources."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import errors, listing, query
from .auth import authenticate
from .behaviours import hooks_for
from .documents import Document, Renderer
from .errors import MEDIA_TYPE, ApiError
from .schema import BY_TYPE, Resource
from .state import Sandbox
from .store import Record
from .writes import WriteContext, destroy, parse_document, save

logger = logging.getLogger("cartwire.sandbox.commercelayer")

_WRITE_METHODS = ("POST", "PATCH", "PUT")
# Creation date shown on the organization and application (they predate any record).
_ACCOUNT_CREATED = "2024-01-01T00:00:00.000Z"


def _document_response(document: Document, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=MEDIA_TYPE)


def _check_media_types(request: Request) -> None:
    if request.method in _WRITE_METHODS:
        content_type = request.headers.get("content-type", "")
        if content_type.strip().lower() != MEDIA_TYPE:
            raise errors.unsupported_media_type(content_type)
    accept = request.headers.get("accept", "")
    types = [t.strip() for t in accept.split(",") if t.strip()]
    if types and not any(t == MEDIA_TYPE or t.startswith("*/*") for t in types):
        raise errors.not_acceptable(accept)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise errors.bad_request(f"Invalid JSON in request body: {exc}.") from exc


class CoreApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def handle(self, request: Request) -> Response:
        sandbox = self.sandbox
        parts = [p for p in request.path_params["rest"].split("/") if p]
        client = request.client.host if request.client else ""
        decision = sandbox.limiter.check_api(client, parts[0] if parts else "", request.method)
        if not decision.allowed:
            # Commerce Layer does not document a Retry-After on its 429s; this one tells how
            # long until the sliding window has room again.
            return errors.api_response(
                errors.too_many_requests(),
                {**decision.headers(), "Retry-After": str(decision.retry_after)},
            )
        try:
            response = await self._route(request, parts)
        except ApiError as error:
            response = errors.api_response(error)
        except Exception:
            logger.exception("unhandled error in %s %s", request.method, request.url.path)
            response = errors.api_response(errors.for_status(500))
        if decision.limit:
            response.headers.update(decision.headers())
        return response

    def _renderer(self, request: Request, params: query.QueryParams | None) -> Renderer:
        sandbox = self.sandbox
        base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        meta = {
            "mode": "test",
            "organization_id": sandbox.organization_id,
            "trace_id": sandbox.ids.hex(64),
        }
        return Renderer(sandbox.store, base, meta, params)

    async def _route(self, request: Request, parts: list[str]) -> Response:
        claims = authenticate(self.sandbox, request.headers.get("authorization"))
        _check_media_types(request)
        # HEAD is answered as GET; the server leaves the body out.
        method = "GET" if request.method == "HEAD" else request.method
        if len(parts) == 1 and parts[0] in ("organization", "application"):
            if method != "GET":
                raise errors.method_not_allowed(method)
            return self._account(request, parts[0])
        resource = BY_TYPE.get(parts[0]) if parts else None
        if resource is None or len(parts) > 4:
            raise errors.unknown_route(request.url.path)
        if len(parts) == 1:
            if method == "GET":
                return self._list(request, resource)
            if method == "POST":
                return await self._create(request, resource, claims)
            raise errors.method_not_allowed(method)
        record = self.sandbox.store.get(resource.type, parts[1])
        if len(parts) == 2:
            if method == "GET":
                return self._show(request, resource, record)
            if method in ("PATCH", "PUT"):
                return await self._update(request, resource, parts[1], record, claims)
            if method == "DELETE":
                if record is None:
                    raise errors.record_not_found()
                destroy(self._context(claims), record)
                return Response(status_code=204)
            raise errors.method_not_allowed(method)
        if len(parts) == 4 and parts[2] != "relationships":
            raise errors.unknown_route(request.url.path)
        relationship = parts[-1]
        if resource.target_of(relationship) is None:
            raise errors.unknown_route(request.url.path)
        if method != "GET":
            raise errors.method_not_allowed(method)
        if record is None:
            raise errors.record_not_found()
        if len(parts) == 4:
            return self._linkage(request, record, relationship)
        return self._related(request, resource, record, relationship)

    def _context(self, claims: dict[str, Any]) -> WriteContext:
        market = claims.get("market")
        markets = market.get("id", []) if isinstance(market, dict) else []
        return WriteContext(self.sandbox.store, list(markets), self.sandbox.importer.enqueue)

    def _list(self, request: Request, resource: Resource) -> Response:
        params = query.parse(request.url.query, resource, collection=True)
        store = self.sandbox.store
        records, count = listing.select(store, store.table(resource.type), params)
        document = self._renderer(request, params).collection(records, count, params, resource.type)
        return _document_response(document)

    def _show(self, request: Request, resource: Resource, record: Record | None) -> Response:
        params = query.parse(request.url.query, resource, collection=False)
        if record is None:
            raise errors.record_not_found()
        extras = hooks_for(resource.type).extras
        renderer = self._renderer(request, params)
        extra = extras(self.sandbox.store, record) if extras else None
        return _document_response(renderer.single(record, extra))

    async def _create(
        self, request: Request, resource: Resource, claims: dict[str, Any]
    ) -> Response:
        params = query.parse(request.url.query, resource, collection=False)
        attributes, relationships = parse_document(resource, await _json_body(request), url_id=None)
        record = save(self._context(claims), resource, None, attributes, relationships)
        return _document_response(self._renderer(request, params).single(record), 201)

    async def _update(
        self,
        request: Request,
        resource: Resource,
        record_id: str,
        record: Record | None,
        claims: dict[str, Any],
    ) -> Response:
        params = query.parse(request.url.query, resource, collection=False)
        attributes, relationships = parse_document(
            resource, await _json_body(request), url_id=record_id
        )
        if record is None:
            raise errors.record_not_found()
        save(self._context(claims), resource, record, attributes, relationships)
        return _document_response(self._renderer(request, params).single(record))

    def _related(
        self, request: Request, resource: Resource, record: Record, relationship: str
    ) -> Response:
        target = BY_TYPE[resource.target_of(relationship) or ""]
        store = self.sandbox.store
        if relationship in resource.has_one_map:
            params = query.parse(request.url.query, target, collection=False)
            renderer = self._renderer(request, params)
            related = renderer.related(record, relationship)
            return _document_response(renderer.single(related[0] if related else None))
        params = query.parse(request.url.query, target, collection=True)
        renderer = self._renderer(request, params)
        scope = renderer.related(record, relationship)
        records, count = listing.select(store, store.table(target.type), params, scope)
        path = f"{resource.type}/{record.id}/{relationship}"
        return _document_response(renderer.collection(records, count, params, path))

    def _linkage(self, request: Request, record: Record, relationship: str) -> Response:
        renderer = self._renderer(request, None)
        self_url = f"{renderer.api}/{record.type}/{record.id}"
        document = {
            "links": {
                "self": f"{self_url}/relationships/{relationship}",
                "related": f"{self_url}/{relationship}",
            },
            "data": renderer.linkage(record, relationship),
        }
        return _document_response(document)

    def _account(self, request: Request, which: str) -> Response:
        sandbox = self.sandbox
        settings = sandbox.settings
        renderer = self._renderer(request, None)
        if which == "organization":
            type_, record_id = "organizations", sandbox.organization_id
            attributes: dict[str, Any] = {
                "name": settings.organization.replace("-", " ").title(),
                "slug": settings.organization,
                "domain": f"{settings.organization}.commercelayer.io",
                "support_phone": None,
                "support_email": None,
                "logo_url": None,
                "favicon_url": None,
                "primary_color": None,
                "gtm_id": None,
                "gtm_id_test": None,
                "config": {},
                "imports_max_concurrent_count": 10,
                "exports_max_concurrent_count": 10,
                "cleanups_max_concurrent_count": 10,
            }
        else:
            type_, record_id = "applications", sandbox.application_id
            attributes = {
                "name": "cartwire sandbox integration",
                "kind": "integration",
                "public_access": False,
                "redirect_uri": None,
                "scopes": None,
            }
        attributes.update(
            created_at=_ACCOUNT_CREATED,
            updated_at=_ACCOUNT_CREATED,
            reference=None,
            reference_origin=None,
            metadata={},
        )
        document = {
            "data": {
                "id": record_id,
                "type": type_,
                "links": {"self": f"{renderer.api}/{type_}/{record_id}"},
                "attributes": attributes,
                "meta": renderer.meta,
            }
        }
        return _document_response(document)
