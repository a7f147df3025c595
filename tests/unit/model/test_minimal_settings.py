import shutil
from pathlib import Path

from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_instances

BASIC = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "basic"


def test_settings_without_defaults_section_load(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(BASIC, repo)
    settings = (repo / "helmkit.yaml").read_text()
    head, _, rest = settings.partition("defaults:")
    (repo / "helmkit.yaml").write_text(head + rest[rest.index("concurrency:"):])
    assert "defaults" not in (repo / "helmkit.yaml").read_text()
    loaded = load_repository(repo)
    env = sorted(loaded.environments)[0]
    instances = resolve_instances(loaded, env)
    assert instances
    assert all(i.namespace and i.timeout for i in instances)
