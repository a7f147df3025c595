"""`diff --show-secrets` is for a person at a terminal: refused in CI, without a terminal, for stored formats."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from helmkit.cli.diff import CI_VARIABLES, show_secrets_refusal

NO_CI = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}


def test_only_text_on_a_terminal_outside_ci_may_show_secrets() -> None:
    assert show_secrets_refusal("text", {}, terminal=True) is None
    assert show_secrets_refusal("text", {"CI": "false"}, terminal=True) is None
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL"):
        assert f"${name}" in (show_secrets_refusal("text", {name: "true"}, terminal=True) or "")
    for fmt in ("json", "markdown", "github"):
        assert f"--format {fmt}" in (show_secrets_refusal(fmt, {}, terminal=True) or "")
    assert "terminal" in (show_secrets_refusal("text", {}, terminal=False) or "")


@pytest.mark.parametrize(("extra", "env", "why"), [
    ([], NO_CI, "must be a terminal"),
    ([], NO_CI | {"CI": "true"}, "$CI is set"),
    ([], NO_CI | {"GITHUB_ACTIONS": "true"}, "$GITHUB_ACTIONS is set"),
    (["--format", "markdown"], NO_CI, "--format markdown"),
    (["--format", "json"], NO_CI, "--format json"),
])
def test_the_cli_refuses_with_one_clear_error(tmp_path: Path, extra: list[str], env: dict[str, str], why: str) -> None:
    argv = [sys.executable, "-m", "helmkit", "--repo", str(tmp_path), "diff", "--env", "prod", "--show-secrets",
            *extra]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: --show-secrets refused: ") and why in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("error:") == 1


def test_on_a_terminal_outside_ci_it_goes_on(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "helmkit", "--repo", str(tmp_path), "diff", "--env", "prod", "--show-secrets"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin/stdout/stderr on the pty
        os.execve(argv[0], argv, NO_CI)  # noqa: S606 (argv is a list, no shell)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "refused" not in text and "is not a helmkit repository" in text  # past the check, into the diff
