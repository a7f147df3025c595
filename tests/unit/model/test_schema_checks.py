"""Files found valid are not checked against the schemas again while they and the schemas stay the
same: a later run over them needs no JSON Schema validator at all. Problems are found on every run."""

import subprocess
import sys
from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.model.repository import load_repository


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text)


def problems_of(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_repository(root)
    return [p.message for p in info.value.problems]


def loads_without_a_validator(root: Path) -> bool:
    code = ("import sys; from pathlib import Path; from helmkit.model.repository import load_repository; "
            f"load_repository(Path({str(root)!r})); print('jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.strip() == "False"


def test_a_repository_found_valid_loads_again_without_a_validator(basic_repo: Path) -> None:
    (basic_repo / ".helmkit" / "cache").mkdir(parents=True)
    assert not loads_without_a_validator(basic_repo)  # the first time every file is checked
    assert loads_without_a_validator(basic_repo)
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespace: web\nwait: true\n")
    assert not loads_without_a_validator(basic_repo)  # a changed file is checked again


def test_problems_are_found_on_every_run_and_after_a_valid_version(basic_repo: Path) -> None:
    (basic_repo / ".helmkit" / "cache").mkdir(parents=True)
    load_repository(basic_repo)
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespace: web\nwait: maybe\n")
    first, again = problems_of(basic_repo), problems_of(basic_repo)
    assert first == again and any("wait" in m for m in first), first
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespace: web\nwait: 1\n")
    assert any("wait" in m for m in problems_of(basic_repo))  # 1 is not true: the type is part of the key


def test_nothing_is_kept_without_a_state_folder(basic_repo: Path) -> None:
    load_repository(basic_repo)
    assert not (basic_repo / ".helmkit").exists()
