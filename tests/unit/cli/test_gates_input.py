"""A bad gate is one clear error at file:line from validate and from sync, before any cluster is touched."""

from pathlib import Path


def test_a_bad_gate_stops_validate_and_sync_with_file_and_line(basic_repo: Path, helmkit) -> None:
    env = basic_repo / "environments" / "prod.yaml"
    env.write_text(env.read_text() + "gates:\n  - http: {url: 'http://${cluster.zone}/'}\n    soak: 1m\n"
                   "  - prometheus: {url: 'http://p', query: up, condition: '< 1'}\n    waves: [7]\n")
    validated = helmkit("--repo", str(basic_repo), "validate", "--no-render")
    assert validated.code == 1
    assert "environments/prod.yaml:18:5: a gate needs exactly one of workload, soak, http, prometheus, command " \
           "(found soak, http)" in validated.out + validated.err
    synced = helmkit("--repo", str(basic_repo), "sync", "--env", "prod", "--dry-run",
                     "--kubeconfig", str(basic_repo / "no-such-kubeconfig"))
    assert synced.code == 1
    assert synced.err.splitlines()[:3] == [
        "error: environments/prod.yaml:18:5: a gate needs exactly one of workload, soak, http, prometheus, command "
        "(found soak, http)",
        "  hint: split it into one gate per check",
        "error: environments/prod.yaml:21:5: gate waves name wave 7, which no cluster of this environment is in",
    ]
    assert "Traceback" not in synced.err


def test_graph_shows_the_gates_after_each_wave(basic_repo: Path, helmkit) -> None:
    env = basic_repo / "environments" / "prod.yaml"
    env.write_text(env.read_text() + "gates:\n  - soak: 10m\n    waves: [0]\n")
    shown = helmkit("--repo", str(basic_repo), "graph", "--env", "prod")
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[-4:-1] == ["  wave 0 (prod-us-east-1):", "    soak: soak 10m",
                                             "  wave 1 (prod-eu-west-1): no gates"]
