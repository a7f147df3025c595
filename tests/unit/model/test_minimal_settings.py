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


def test_release_ignore_differences_are_layered(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(BASIC, repo)
    web = repo / "releases" / "web.yaml"
    web.write_text(web.read_text() + "ignoreDifferences:\n  - kind: Deployment\n    jsonPointers: [/spec/replicas]\n")
    prod = repo / "environments" / "prod.yaml"
    text = prod.read_text()
    assert "releases:\n  web:\n" in text
    prod.write_text(text.replace(
        "releases:\n  web:\n",
        "releases:\n  web:\n    ignoreDifferences:\n      - kind: ConfigMap\n        jsonPointers: [/data]\n", 1))
    loaded = load_repository(repo)
    dev = {i.name: i for i in resolve_instances(loaded, "dev")}
    prod_web = [i for i in resolve_instances(loaded, "prod") if i.name == "web"]
    assert dev["web"].ignore_differences == [{"kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]
    assert prod_web and all(i.ignore_differences == [{"kind": "ConfigMap", "jsonPointers": ["/data"]}]
                            for i in prod_web)  # lists replace
    assert dev["ingress"].ignore_differences == []
