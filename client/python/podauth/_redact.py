"""A ``repr`` for records that hold secrets.

Proofs and tokens are shown in notebooks whenever a cell returns them, and
end up in logs and tracebacks. Their ``repr`` names every field but prints
``<redacted>`` for the secret ones, so that redaction never depends on the
caller remembering it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

REDACTED = "<redacted>"


def redacted_repr(record: Any, secrets: frozenset[str]) -> str:
    """``Name(field=value, secret=<redacted>, ...)`` for a dataclass."""
    parts = []
    for field in dataclasses.fields(record):
        if not field.repr:
            continue
        value = getattr(record, field.name)
        shown = REDACTED if field.name in secrets and value else repr(value)
        parts.append(f"{field.name}={shown}")
    return f"{type(record).__name__}({', '.join(parts)})"
