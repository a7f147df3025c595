import sys

import pytest

from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import ToolError

CANARY = "canary-s3cr3t-value"


def test_run_returns_output_and_counts_processes():
    runner = Runner()
    result = runner.run([sys.executable, "-c", "print('hi')"])
    assert result.stdout == "hi\n"
    assert runner.started[__import__("pathlib").Path(sys.executable).name] == 1


def test_failure_masks_secrets_in_argv_and_stderr():
    runner = Runner(masker=Masker([CANARY]))
    code = f"import sys; sys.stderr.write('bad {CANARY}'); sys.exit(3)"
    with pytest.raises(ToolError) as info:
        runner.run([sys.executable, "-c", code, CANARY])
    err = info.value
    assert err.returncode == 3
    assert CANARY not in err.render()
    assert CANARY not in " ".join(err.argv)
    assert "***" in err.stderr


def test_timeout_kills_process():
    runner = Runner()
    with pytest.raises(ToolError, match="timed out"):
        runner.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert runner.running() == 0


def test_missing_binary_is_a_clear_error():
    with pytest.raises(ToolError, match="cannot start"):
        Runner().run(["/nonexistent/helm", "version"])


def test_after_terminate_all_nothing_starts():
    runner = Runner()
    runner.terminate_all(grace=1.0)
    with pytest.raises(ToolError, match="not started: helmkit is stopping"):
        runner.run([sys.executable, "-c", "print('late')"])
    assert sum(runner.started.values()) == 0


def test_a_process_starting_while_terminate_all_runs_is_terminated(monkeypatch: pytest.MonkeyPatch):
    """terminate_all between the start of a process and its registration: the process is still stopped."""
    import subprocess
    import time

    import helmkit.adapters.runner as runner_module

    runner = Runner()
    real = subprocess.Popen

    def popen_then_interrupted(*args: object, **kwargs: object) -> subprocess.Popen[str]:
        proc = real(*args, **kwargs)
        runner.terminate_all(grace=1.0)  # sees no running process yet
        return proc

    monkeypatch.setattr(runner_module.subprocess, "Popen", popen_then_interrupted)
    started = time.monotonic()
    with pytest.raises(ToolError):
        runner.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=60)
    assert time.monotonic() - started < 10
