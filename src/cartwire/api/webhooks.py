"""The webhook receiver's routes: `POST /webhooks/{flow}` (and `GET /healthz`).

Only the HTTP around the service layer's `WebhookIntake`, which makes every decision: the raw
body is handed over as received (the signature is over its exact bytes, so it is never
re-serialized), and the receiver, which touches the database, runs off the event loop. The
body cap is `guards.BodyLimit`'s; the intake's lifetime is the app's (`api.app`).
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cartwire.services.webhooks import WebhookIntake

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks/{flow}")
async def receive(flow: str, request: Request) -> JSONResponse:
    """Start `flow` with the delivery as its records, once its signature (a Commerce Layer
    signature header, or a signed URL) checks out; 202 with the run's id."""
    intake: WebhookIntake = request.app.state.intake
    body = await request.body()
    reply = await run_in_threadpool(
        intake.receive, flow, body, request.headers, request.query_params
    )
    return JSONResponse(reply.document, reply.status)


@router.get("/healthz", include_in_schema=False)
async def alive() -> dict[str, bool]:
    """The receiver's own liveness answer, kept for senders and probes set up before `/health`."""
    return {"ok": True}
