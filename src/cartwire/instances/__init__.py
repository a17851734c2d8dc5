"""Connector instances: validated, tested, encrypted credentials for one account."""

from cartwire.instances.service import (
    CredentialsRejected,
    InstanceInUse,
    Instances,
    Settings,
    TestResult,
)
from cartwire.instances.validation import FieldProblem, InvalidFields

__all__ = [
    "CredentialsRejected",
    "FieldProblem",
    "InstanceInUse",
    "Instances",
    "InvalidFields",
    "Settings",
    "TestResult",
]
