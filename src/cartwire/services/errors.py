"""Every exception a shell turns into a message and an exit code (or an HTTP status).

Collected here so that shells import them from the service layer alone. Loading this module
loads the engine, so a shell imports it only once it is about to call a service.
"""

from cartwire.auth.errors import AuthError
from cartwire.connectors import ConnectorError
from cartwire.flows.catalog import FlowNotFound
from cartwire.flows.lookups import LookupCsvError
from cartwire.flows.problems import FlowError, FlowInvalid
from cartwire.flows.run_endings import RunInterrupted
from cartwire.http.errors import ApiError
from cartwire.http.paging import IncompleteRead
from cartwire.instances import CredentialsRejected, FieldProblem, InstanceInUse, InvalidFields
from cartwire.instances.sandboxes import NoSandbox
from cartwire.refusals import FieldRefused, InputRefused
from cartwire.services.access import AccessRefused, LoginFailed
from cartwire.services.dispatch import NoBroker, QueueUnavailable
from cartwire.services.flows import FlowInUse
from cartwire.services.pools import PoolRejected
from cartwire.services.runs import QueryRefused
from cartwire.store import (
    InstanceExists,
    InstanceNotFound,
    InvalidRecord,
    NameTaken,
    StoreError,
)
from cartwire.store.runs import RunBusy, RunNotFound

__all__ = [
    "AccessRefused",
    "ApiError",
    "AuthError",
    "ConnectorError",
    "CredentialsRejected",
    "FieldProblem",
    "FieldRefused",
    "FlowError",
    "FlowInUse",
    "FlowInvalid",
    "FlowNotFound",
    "IncompleteRead",
    "InputRefused",
    "InstanceExists",
    "InstanceInUse",
    "InstanceNotFound",
    "InvalidFields",
    "InvalidRecord",
    "LoginFailed",
    "LookupCsvError",
    "NameTaken",
    "NoBroker",
    "NoSandbox",
    "PoolRejected",
    "QueryRefused",
    "QueueUnavailable",
    "RunBusy",
    "RunInterrupted",
    "RunNotFound",
    "StoreError",
]
