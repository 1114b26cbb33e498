"""The one "did you mean" check of config keys, shared by every config loader.

Config files are only a serialisation of frozen dataclasses; loading rejects a key the
dataclass does not have, naming its dotted place and the closest known key. Used by
:meth:`diffpose.config.DiffPoseConfig.from_dict` and the app's YAML loader
(``posetool.run.config_file``), which may import the library but not the reverse.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["UnknownKeyError", "check_known_keys"]


class UnknownKeyError(ValueError):
    """A config key the dataclass does not have; the message names it and a close match."""


def check_known_keys(keys: Iterable, known: Sequence[str], where: str = "") -> None:
    """Raise for the first of ``keys`` not in ``known``.

    Args:
        keys: The keys given (e.g. a mapping read from YAML).
        known: The field names allowed.
        where: Dotted place of the mapping ("pose", "strl"; "" at the top).

    Raises:
        UnknownKeyError: ``unknown config key 'pose.ensembel'; did you mean
            'pose.ensemble'? (known: ...)``.
    """
    prefix = f"{where}." if where else ""
    known = [str(k) for k in known]
    for key in keys:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
        raise UnknownKeyError(
            f"unknown config key '{prefix}{key}'{hint} (known: {', '.join(known)})"
        )
