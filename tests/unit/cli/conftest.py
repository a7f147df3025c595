import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from helmkit.cli.main import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "repos"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def basic_repo(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/repos/basic that a test may change."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "basic", root)
    return root


@pytest.fixture
def helmkit(capsys: pytest.CaptureFixture[str]):
    """Run ``helmkit ARGS`` through the real entry point; return exit code, stdout and stderr."""

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        code = info.value.code if isinstance(info.value.code, int) else 1
        return Outcome(code, captured.out, captured.err)

    return run
