"""The building blocks of the flow schema: errors that know their place in the file, strings
checked on load (record paths, templates, time zones, python names, cron expressions, names),
and models whose kind is their one key (`{map: ...}`, `{cents: ...}`, a bare `upper`).

An error raised here is a `PydanticCustomError` of type `flow`; its context may carry
`flow_path`, the place of the problem below the field or model that raised it, which
`validation` appends to pydantic's `loc`.
"""

import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterError, croniter
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from cartwire.flows import paths
from cartwire.platforms.registry import Kind, registry

# ---------------------------------------------------------------------------------------------
# Errors


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error; `at` is its place below the field or model that raises it."""
    return PydanticCustomError("flow", message, {"flow_path": at} if at else None)


def unknown(what: str, value: object, known: Sequence[str], of: str = "") -> str:
    """`unknown transform "centz"; did you mean "cents"?`, or the known names when none is close;
    `of` names the owner (`unknown endpoint "prodcts" of acme; ...`)."""
    close = difflib.get_close_matches(str(value), known, n=1)
    hint = f'did you mean "{close[0]}"?' if close else f"known: {', '.join(known) or 'none'}"
    owner = f" of {of}" if of else ""
    return f'unknown {what} "{value}"{owner}; {hint}'


def choice(what: str, choices: Sequence[str]) -> BeforeValidator:
    """Check a word against its choices before pydantic's Literal does, to suggest a spelling."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in choices:
            raise problem(unknown(what, value, choices))
        return value

    return BeforeValidator(check)


def registered(what: str, kind: Kind[Any]) -> AfterValidator:
    """Check a name against what the platforms registered (`cartwire.platforms.registry`)."""

    def check(value: str) -> str:
        known = registry().names(kind)
        if value not in known:
            raise problem(unknown(what, value, known))
        return value

    return AfterValidator(check)


# ---------------------------------------------------------------------------------------------
# Checked strings


def _path(value: str) -> str:
    try:
        paths.parse(value)
    except paths.PathSyntaxError as exc:
        raise problem(str(exc)) from None
    return value


def _template(value: str) -> str:
    try:
        paths.template_paths(value)
    except paths.PathSyntaxError as exc:
        raise problem(str(exc)) from None
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise problem(unknown("time zone", value, sorted(available_timezones()))) from None
    return value


_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_PYTHON_NAME = re.compile(rf"^{_DOTTED}:{_DOTTED}$")


def _python_name(value: str) -> str:
    if not _PYTHON_NAME.match(value):
        raise problem(f'bad python function "{value}": write it as "package.module:function"')
    return value


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5:
        raise problem(
            f'"{value}" has {len(fields)} fields; a schedule is a 5-field cron expression '
            "(minute hour day-of-month month day-of-week, in UTC)"
        )
    try:
        croniter(value)
    except CroniterError as exc:
        raise problem(f'bad cron expression "{value}": {exc}') from None
    return value


def listify(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


RecordPath = Annotated[str, AfterValidator(_path)]
Template = Annotated[str, AfterValidator(_template)]
TimeZone = Annotated[str, AfterValidator(_zone)]
PythonName = Annotated[str, AfterValidator(_python_name)]
Cron = Annotated[str, AfterValidator(_cron)]


def matching(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise problem(f'"{value}": {rule}')
        return value

    return AfterValidator(check)


Name = Annotated[
    str, matching(r"[A-Za-z_][A-Za-z0-9_-]*", "use letters, digits, _ and - (a field name)")
]
SLUG = r"[a-z0-9][a-z0-9_-]*"
SLUG_RULE = "use lowercase letters, digits, _ and -"
Slug = Annotated[str, matching(SLUG, SLUG_RULE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OneOf(Strict):
    """A mapping with exactly one key naming its kind; kinds in `bare` may be a bare word."""

    what: ClassVar[str]
    bare: ClassVar[Mapping[str, Any]] = {}

    @model_validator(mode="before")
    @classmethod
    def _one_key(cls, data: Any) -> Any:
        kinds = list(cls.model_fields)
        if isinstance(data, str):
            if data in cls.bare:
                return {data: cls.bare[data]}
            if data in kinds:
                raise problem(f'{cls.what} "{data}" needs an argument: {{{data}: ...}}')
            raise problem(unknown(cls.what, data, kinds))
        if not isinstance(data, dict):
            raise problem(f"a {cls.what} is a name or a mapping with one key")
        if len(data) != 1:
            got = ", ".join(map(str, data)) or "none"
            raise problem(f"a {cls.what} is a mapping with exactly one key; got: {got}")
        [(kind, args)] = data.items()
        if kind not in kinds:
            raise problem(unknown(cls.what, kind, kinds))
        if args is None and kind in cls.bare:
            return {kind: cls.bare[kind]}
        no_args = NoArgs in typing.get_args(cls.model_fields[kind].annotation)
        if no_args and not (args == {} or isinstance(args, NoArgs)):
            raise problem(f'{cls.what} "{kind}" takes no arguments')
        return data

    @property
    def kind(self) -> str:
        return next(iter(self.model_fields_set))

    @property
    def args(self) -> Any:
        return getattr(self, self.kind)


class NoArgs(Strict):
    """The arguments of a kind that takes none (`upper`, `manual`)."""
