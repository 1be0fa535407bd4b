"""The parameters of one Subsonic call, from the query string and, for a form POST,
the body (OpenSubsonic `formPost` extension: application/x-www-form-urlencoded).

Names are case-sensitive (`albumId`, `songIdToAdd`); a parameter may repeat, and
the methods that take lists (`id`, `songId`, `songIndexToRemove` …) read every
value. Booleans are `true`/`false` in any case. A missing required parameter is
error 10; a present but unusable one error 0 naming what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable

from subsonic_service.errors import invalid, missing

TRUE = "true"
FALSE = "false"
# Beyond these a query could ask the database for absurd pages.
INT_LIMIT = 2**31 - 1


class Params:
    """A read-only multi-map of the call's parameters, in arrival order."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def names(self) -> set[str]:
        return set(self._values)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        values = self._values.get(name)
        return values[0] if values else default

    def require(self, name: str) -> str:
        """The first value of `name`; error 10 when absent or empty."""
        value = self.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def list(self, name: str) -> list[str]:
        """Every value of `name` (empty when absent), blanks dropped."""
        return [value for value in self._values.get(name, ()) if value != ""]

    def int(
        self, name: str, default: int | None = None, *, low: int = 0, high: int = INT_LIMIT
    ) -> int | None:
        """`name` as an integer in [low, high]; `default` when absent; error 0 otherwise."""
        value = self.get(name)
        if value is None or value == "":
            return default
        return to_int(name, value, low, high)

    def require_int(self, name: str, *, low: int = 0, high: int = INT_LIMIT) -> int:
        return to_int(name, self.require(name), low, high)

    def ints(self, name: str, *, low: int = 0, high: int = INT_LIMIT) -> list[int]:
        """Every value of `name` as integers."""
        return [to_int(name, value, low, high) for value in self.list(name)]

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        """`name` as true/false in any case; `default` when absent; error 0 otherwise."""
        value = self.get(name)
        if value is None or value == "":
            return default
        folded = value.strip().lower()
        if folded == TRUE:
            return True
        if folded == FALSE:
            return False
        raise invalid(name, "true or false")


def to_int(name: str, value: str, low: int = 0, high: int = INT_LIMIT) -> int:
    """`value` as a decimal integer within [low, high], else error 0 naming `name`."""
    text = value.strip()
    if not text.lstrip("-").isdigit() or not text.isascii() or len(text) > 20:
        raise invalid(name, "an integer")
    number = int(text)
    if not low <= number <= high:
        raise invalid(name, f"an integer from {low} to {high}")
    return number
