"""Options of ``posetool run`` that override the run's config, with their defaults shown from
the config itself.

Such an option's value is None when it is not given, so a ``--config`` YAML file or a preset
decides; its help still shows the default it overrides, read from
:class:`~posetool.run.pipeline_config.PipelineConfig` when the help is printed, so help and config
cannot disagree. ``pipeline_config`` is light (no torch, no OpenCV) and imported only then.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import click

__all__ = ["ConfigDefaultOption", "config_default", "config_option"]


def config_default(config_field: str) -> Any:
    """The default ``PipelineConfig`` value at a dotted field path, e.g. ``"pose.ensemble"``."""
    from posetool.run.pipeline_config import PipelineConfig

    return reduce(getattr, config_field.split("."), PipelineConfig())


class ConfigDefaultOption(click.Option):
    """An override option (None: not given) whose help shows ``PipelineConfig``'s default at
    ``config_field``; a ``--flag/--other-flag`` pair shows the flag that is the default.

    Declared with :func:`config_option`.
    """

    def __init__(self, *args: Any, config_field: str, **kwargs: Any) -> None:
        kwargs.setdefault("default", None)
        super().__init__(*args, **kwargs)
        if self.default is not None:
            raise ValueError(f"{self.name}: an override option defaults to None (not given)")
        self.config_field = config_field

    def get_help_extra(self, ctx: click.Context) -> click.types.OptionHelpExtra:
        extra = super().get_help_extra(ctx)
        value = config_default(self.config_field)
        if self.is_bool_flag and self.secondary_opts:
            value = (self.opts if value else self.secondary_opts)[0].lstrip("-")
        extra["default"] = str(value)
        return extra


def config_option(*param_decls: str, config_field: str, **attrs: Any):
    """``click.option`` for an override of ``PipelineConfig`` at ``config_field``, e.g.
    ``@config_option("--steps", config_field="pose.steps", type=click.IntRange(1))``."""
    return click.option(*param_decls, cls=ConfigDefaultOption, config_field=config_field, **attrs)
