import subprocess
import sys

from helmkit.errors import EXIT_ERROR


def run(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "helmkit", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "bootstrap" in result.stdout
    assert "version" in result.stdout


def test_unknown_command_is_an_error_with_exit_1():
    result = run("frobnicate")
    assert result.returncode == EXIT_ERROR
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr
