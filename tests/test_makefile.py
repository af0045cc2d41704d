"""The Makefile's choice of interpreter for a new .venv (README, "Two commands")."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _usable(python: str) -> bool:
    """A Python 3.11 with ensurepip (what ``python -m venv`` needs), as the Makefile asks."""
    out = subprocess.run([python, "-c", "import ensurepip, sys; "
                          "sys.exit(sys.version_info[:2] != (3, 11))"], capture_output=True)
    return out.returncode == 0


def _which_python(*args: str, path: str | None = None) -> str:
    env = dict(os.environ)
    env.pop("PYTHON", None)  # (make reads variables from the environment too)
    if path is not None:
        env["PATH"] = path
    make = shutil.which("make") or "make"
    out = subprocess.run([make, "-s", "--no-print-directory", "which-python", *args], cwd=ROOT,
                         capture_output=True, text=True, check=True, env=env)
    return out.stdout.strip()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_venv_interpreter_is_the_distributions_python_311_when_there_is_one() -> None:
    chosen = _which_python()
    if Path("/usr/bin/python3.11").exists() and _usable("/usr/bin/python3.11"):
        assert chosen == "/usr/bin/python3.11"
    else:
        assert chosen in ("python3.11", "python3")
    if chosen != "python3":  # (the last resort is taken whatever its version)
        assert _usable(chosen)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_venv_interpreter_can_be_chosen_and_falls_back_to_python3(tmp_path: Path) -> None:
    assert _which_python("PYTHON=/opt/other/python3.11") == "/opt/other/python3.11"
    # with no Python 3.11 anywhere (a PATH of echo alone, and no /usr/bin/python3.11): python3
    (tmp_path / "echo").symlink_to(shutil.which("echo") or "/bin/echo")
    if not Path("/usr/bin/python3.11").exists():
        assert _which_python(path=str(tmp_path)) == "python3"
    else:  # /usr/bin/python3.11 is found by its full path whatever the PATH
        assert _which_python(path=str(tmp_path)) == (
            "/usr/bin/python3.11" if _usable("/usr/bin/python3.11") else "python3")
