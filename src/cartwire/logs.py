"""Where cartwire writes its log, and the guard that keeps secrets out of it.

Secrets are never handed to a logger on purpose; the redacting filter is the second line of
defence for values that slip into a message anyway (an exception text, a URL).
"""

import logging
import threading

from cartwire.home import data_dir

_secrets: set[str] = set()
_lock = threading.Lock()
MASK = "••••"


def register_secret(value: str) -> None:
    """Mask `value` wherever it would appear in a log line from now on."""
    if len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class _LogFile(logging.FileHandler):
    """cartwire's own handler, recognisable so `configure` installs it once."""


def configure() -> None:
    """Log INFO and above to `$CARTWIRE_HOME/logs/cartwire.log` (once per process)."""
    root = logging.getLogger("cartwire")
    if any(isinstance(h, _LogFile) for h in root.handlers):
        return
    folder = data_dir() / "logs"
    folder.mkdir(exist_ok=True)
    handler = _LogFile(folder / "cartwire.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
