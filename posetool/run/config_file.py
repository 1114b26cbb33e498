"""YAML serialization of :class:`~posetool.run.pipeline_config.PipelineConfig` (``--config FILE.yaml``).

YAML is only ``asdict(config)``: sections ``detector``, ``tracker``, ``pose`` and the top-level
fields. Loading starts from a base config (the defaults or ``--fast``), overrides the keys the
file gives, rejects unknown keys with a "did you mean" hint and validates through the
dataclasses' own ``__post_init__``.
"""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from diffpose.config_keys import UnknownKeyError, check_known_keys

__all__ = ["ConfigFileError", "config_from_dict", "dump_config", "load_config"]


class ConfigFileError(ValueError):
    """A config file that cannot be used; names the file and the key."""


def _merge(obj: Any, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigFileError(
            f"{where or 'config'}: expected a mapping, got {type(values).__name__}"
        )
    try:
        check_known_keys(values, [f.name for f in fields(obj)], where)
    except UnknownKeyError as exc:
        raise ConfigFileError(str(exc)) from None
    changes = {}
    for key, value in values.items():
        name = f"{where}.{key}" if where else str(key)
        current = getattr(obj, key)
        changes[key] = _merge(current, value, name) if is_dataclass(current) else value
    try:
        return replace(obj, **changes)
    except (TypeError, ValueError) as exc:
        raise ConfigFileError(f"{where or 'config'}: {exc}") from None


def config_from_dict(values: dict, base=None):
    """A :class:`PipelineConfig` from ``base`` (default: the defaults) with ``values`` applied.

    Raises:
        ConfigFileError: An unknown key (with a hint) or an invalid value.
    """
    from posetool.run.pipeline_config import PipelineConfig

    return _merge(base if base is not None else PipelineConfig(), values or {}, "")


def load_config(path: str | Path, base=None):
    """Read ``path`` (YAML) onto ``base``; see :func:`config_from_dict`."""
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    try:
        return config_from_dict(values or {}, base)
    except ConfigFileError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None


def dump_config(config) -> str:
    """YAML text of ``asdict(config)`` (loads back to the same config)."""
    import yaml

    return yaml.safe_dump(asdict(config), sort_keys=False)
