"""`instances add` with a person at the keyboard: ask only what cannot be known, check each answer
as it is typed, and when the credential test fails ask again for what failed, keeping the rest.

The wizard decides what to ask and what an answer means; a `Terminal` (the CLI) only shows
questions and reads answers, so the same rules hold wherever it is driven from.
"""

from dataclasses import dataclass
from typing import Protocol

from cartwire.connectors import AuthMethod, CredentialField, get_connector
from cartwire.instances.sandboxes import require_sandbox, running_sandbox, with_sandbox
from cartwire.instances.service import CredentialsRejected, Instances, Settings, TestResult
from cartwire.instances.validation import (
    InvalidFields,
    allowed_values,
    is_constant,
    problem_with,
    resolved,
)
from cartwire.logs import register_secret
from cartwire.store import InstanceRecord

# A wrong secret is asked for again this many times before the wizard gives up.
RETRIES = 3


@dataclass(frozen=True)
class Question:
    """One field to ask for, with what the prompt must tell: required, allowed values, hidden."""

    field: CredentialField
    choices: list[str] | None
    default: str | None

    @property
    def prompt(self) -> str:
        notes = []
        if self.field.required:
            notes.append("required")
        if self.choices:
            notes.append(f"one of {', '.join(self.choices)}")
        if self.field.secret:
            notes.append("input hidden")
        return f"{self.field.label} ({'; '.join(notes)})" if notes else self.field.label


class Terminal(Protocol):
    def ask(self, question: Question) -> str: ...

    def confirm(self, text: str) -> bool: ...

    def say(self, text: str) -> None: ...


@dataclass(frozen=True)
class Request:
    """What `instances add` was told before the wizard starts asking."""

    connector: str
    name: str
    given: dict[str, str]
    settings: Settings
    auth_method: str | None = None
    test: bool = True
    sandbox: bool = False


class Wizard:
    def __init__(self, instances: Instances, terminal: Terminal, *, advanced: bool) -> None:
        self.instances = instances
        self.terminal = terminal
        self.advanced = advanced

    def add(self, request: Request) -> InstanceRecord:
        self.instances.check_new(request.name)
        request.settings.check()
        method = get_connector(request.connector).auth_method(request.auth_method)
        values = dict(request.given)
        from_sandbox = self._sandbox(request, method, values)
        for field in method.fields:
            if field.key not in values and self._asks(field, from_sandbox):
                self._ask(method, field, values)
        record = self._prepared(request, method, values)
        if not request.test:
            return self.instances.save(record)
        retry = 0
        while True:
            result = self.instances.test(record)
            if result.ok:
                return self.instances.save(record, tested=True)
            if retry == RETRIES or not self._recover(method, values, record, result, retry):
                raise CredentialsRejected(result)
            retry += 1
            record = self._prepared(request, method, values)

    def _sandbox(self, request: Request, method: AuthMethod, values: dict[str, str]) -> bool:
        """Fill in a running sandbox's fields when told to (`--sandbox`) or when the user takes
        the offer, which is not made to someone who already gave a URL; given values win."""
        if request.sandbox:
            sandbox = require_sandbox(request.connector)
        else:
            url_given = any(f.kind == "url" and f.key in values for f in method.fields)
            running = None if url_given else running_sandbox(request.connector)
            if running is None or not self.terminal.confirm(
                f"A {request.connector} sandbox is running at {running.url}. Use it (its URLs "
                "and credentials) for this instance?"
            ):
                return False
            sandbox = running
        values.update(with_sandbox(sandbox, method, values))
        return True

    def _asks(self, field: CredentialField, from_sandbox: bool) -> bool:
        """Advanced fields and one-value constants only with --advanced; with a sandbox, nothing
        that has a default (the sandbox needs none changed)."""
        if field.advanced or is_constant(field):
            return self.advanced
        return not (from_sandbox and field.default)

    def _ask(
        self,
        method: AuthMethod,
        field: CredentialField,
        values: dict[str, str],
        default: str | None = None,
    ) -> None:
        """Ask until the answer passes the field's checks; an empty optional answer leaves the
        field out (its default applies)."""
        question = Question(field, allowed_values(field, values), default or field.default)
        while True:
            answer = self.terminal.ask(question).strip()
            if field.secret and answer:
                register_secret(answer)
            problem = problem_with(method, field, answer, values)
            if problem is None:
                break
            self.terminal.say(f"{field.label}: {problem}")
        if answer:
            values[field.key] = answer
        else:
            values.pop(field.key, None)

    def _prepared(
        self, request: Request, method: AuthMethod, values: dict[str, str]
    ) -> InstanceRecord:
        """The record, once every field is valid together: a value that only fails beside
        another (a scope naming another project) is asked for again."""
        keys = {field.key for field in method.fields}
        while True:
            try:
                return self.instances.prepare(
                    request.connector, request.name, values, request.settings, request.auth_method
                )
            except InvalidFields as exc:
                if any(problem.key not in keys for problem in exc.problems):
                    raise
                for problem in exc.problems:
                    self.terminal.say(str(problem))
                    self._ask(method, method.field(problem.key), values)

    def _recover(
        self,
        method: AuthMethod,
        values: dict[str, str],
        record: InstanceRecord,
        result: TestResult,
        retry: int,
    ) -> bool:
        """Ask again for what the failed test points at; False when the user would rather stop."""
        left = f"{RETRIES - retry} more {'try' if RETRIES - retry == 1 else 'tries'}"
        if result.status == "failed authentication":
            self.terminal.say(f"the credential test failed: {result.reason}; {left}")
            wrong = [f for f in method.fields if f.secret]
            if result.code == "invalid_scope":
                wrong = [f for f in method.fields if f.key == "scope"] or wrong
            for field in wrong:
                self._ask(method, field, values)
            return True
        url = self.instances.endpoint(record).url
        what = "could not reach" if result.status == "unreachable" else "no token from"
        self.terminal.say(
            f"{what} {url} ({result.reason}). Change the URLs below, run again with --advanced "
            f"to be asked for them, or with --sandbox to use a running sandbox; {left}"
        )
        if not self.terminal.confirm("Change the URLs now?"):
            return False
        current = resolved(method, values)
        for field in method.fields:
            if field.kind == "url":
                self._ask(method, field, values, default=current.get(field.key))
        return True
