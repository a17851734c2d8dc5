"""Which process owns something, and whether that very process is still alive.

A PID alone is not an identity (numbers are reused), so an owner is recorded as host, PID and
the kernel's start time of the process; it is alive only while all three still match.
"""

import socket
from pathlib import Path


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat: start time in clock ticks since boot (None if gone/zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def owner_token(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{process_start_time(pid)}"


def owner_alive(token: str) -> bool | None:
    """True/False for an owner on this host; None when it runs elsewhere (cannot tell)."""
    host, pid, start = token.rsplit(":", 2)
    if host != socket.gethostname():
        return None
    return str(process_start_time(int(pid))) == start
