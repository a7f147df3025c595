import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "repos"


@pytest.fixture
def basic_repo(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/repos/basic that a test may change."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "basic", root)
    return root
