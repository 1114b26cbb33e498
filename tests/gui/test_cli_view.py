"""`posetool view` exists, and the CLI does not import PySide6 until the command runs."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from posetool.cli import main


def test_view_help_lists_poses_option():
    out = CliRunner().invoke(main, ["view", "--help"])
    assert out.exit_code == 0 and "--poses" in out.output


def test_cli_help_does_not_import_qt():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom posetool.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "sys.exit(2 if r.exit_code else int('PySide6' in sys.modules))\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
