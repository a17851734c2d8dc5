"""Where flows are found by name: the prebuilt ones the installed platforms ship (each in the
package of the platform it reads from, `cartwire.platforms.registry`), then the user's own in
`$CARTWIRE_HOME/flows/`; anything else given as a path is read as a file."""

from dataclasses import dataclass
from pathlib import Path

from cartwire.flows.schema import Flow
from cartwire.flows.validation import load_flow
from cartwire.home import data_dir
from cartwire.platforms.registry import FLOW_FILE, registry


class FlowNotFound(LookupError):
    pass


@dataclass(frozen=True)
class FlowFile:
    flow: Flow
    text: str
    origin: str  # "prebuilt", "user" or the file path


def _prebuilt() -> dict[str, str]:
    known = registry()
    return {
        name: known.get(FLOW_FILE, name).read_text(encoding="utf-8")
        for name in known.names(FLOW_FILE)
    }


def user_folder() -> Path:
    """Where the user's own flow files are (`$CARTWIRE_HOME/flows/`)."""
    return data_dir() / "flows"


def _user() -> dict[str, str]:
    folder = user_folder()
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def available() -> dict[str, FlowFile]:
    """Every flow by name; a user flow may override a prebuilt one of the same name."""
    found = {
        name: FlowFile(load_flow(text), text, "prebuilt") for name, text in _prebuilt().items()
    }
    found.update({name: FlowFile(load_flow(text), text, "user") for name, text in _user().items()})
    return found


def find(name_or_path: str) -> FlowFile:
    """A flow by name, or the flow file at a path (validated either way); for people at a CLI."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise FlowNotFound(f"no flow file at {name_or_path}")
        text = path.read_text(encoding="utf-8")
        return FlowFile(load_flow(text), text, str(path))
    return find_by_name(name_or_path)


def find_by_name(name: str) -> FlowFile:
    """A prebuilt or user flow by name only, never a file path: for names that come from the
    store or from a request (scheduler, webhooks)."""
    user = _user()
    texts = {**_prebuilt(), **user}
    if name not in texts:
        known = ", ".join(sorted(texts)) or "none"
        raise FlowNotFound(f"no flow named {name!r}; known: {known}")
    text = texts[name]
    return FlowFile(load_flow(text), text, "user" if name in user else "prebuilt")
