"""The ``posetool`` command line (Click). Heavy modules are imported inside commands only,
so ``posetool --help`` stays fast."""

# Each module registers its commands on the group when imported.
from posetool.cli import (  # noqa: F401, E402
    eval_command,
    finetune_command,
    info_command,
    result_commands,
    run_command,
    training_commands,
    view_command,
)
from posetool.cli.main import main  # noqa: E402

__all__ = ["main"]
