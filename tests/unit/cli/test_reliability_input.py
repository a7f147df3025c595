"""reliability.md cases 1-5 and 7: bad input gives one clear error naming file and line, exit 1."""

import subprocess
import sys
from pathlib import Path

import pytest


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

CANARY = "canary-9f2b-never-printed"


def assert_clean(outcome) -> None:
    assert outcome.code == 1
    assert "Traceback" not in outcome.out + outcome.err
    assert "internal error" not in outcome.out + outcome.err


ALIAS_BOMB_RSS_LIMIT_KB = 200 * 1024
MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
with open(os.path.join(os.path.dirname(sys.argv[5]), "measured.txt"), "w") as handle:
    handle.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def test_case1_alias_bomb(basic_repo: Path):
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    write(basic_repo, "values/web/common.yaml", bomb)
    # Measured in a process of its own, started by a small launcher: a child forked from the test
    # process would count the test process's pages in its peak until it execs.
    out_file, err_file = basic_repo.parent / "out.txt", basic_repo.parent / "err.txt"
    command = [sys.executable, "-m", "helmkit", "--repo", str(basic_repo), "validate", "--no-render"]
    with out_file.open("w") as out_handle, err_file.open("w") as err_handle:
        launched = subprocess.run([sys.executable, "-c", MEASURE, *command], stdout=out_handle, stderr=err_handle,
                                  check=False, timeout=120)
    out, err = out_file.read_text(), err_file.read_text()
    code, max_rss_kb = (int(part) for part in (basic_repo.parent / "measured.txt").read_text().split())
    assert launched.returncode == 0, err
    assert max_rss_kb < ALIAS_BOMB_RSS_LIMIT_KB, max_rss_kb  # kilobytes on Linux
    assert code == 1 and "Traceback" not in out + err
    assert "error: values/web/common.yaml:6:14:" in out
    assert "too many YAML nodes" in out
    assert "hint: this looks like an alias bomb" in out


def test_case2_cycles_depth_duplicates(basic_repo: Path, helmkit):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nvalues: &v {a: [*v]}\n")
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/web}\nvalues:\n  k:\n    " + "- " * 5000 + "x\n")
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nclusters: []\n")
    outcome = helmkit("--repo", str(basic_repo), "validate")
    assert_clean(outcome)
    assert "error: releases/web.yaml:2:17: alias *v refers to an anchor that contains it (a cycle)" in outcome.out
    assert "error: releases/ingress.yaml:4:" in outcome.out and "nesting deeper than 100 levels" in outcome.out
    assert "error: environments/dev.yaml:2:1: duplicate key 'clusters' (first at line 1)" in outcome.out
    assert "invalid: 3 errors" in outcome.out


def test_case3_schema_errors_list_every_one(basic_repo: Path, helmkit):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespce: web\nhistoryMax: -1\n")
    write(basic_repo, "environments/prod.yaml", "clusters:\n  - name: p1\n    wave: first\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render")
    assert_clean(outcome)
    assert ("error: releases/web.yaml:2:1: unknown key `namespce` (at /namespce, release layer)\n"
            "  hint: did you mean `namespace`?") in outcome.out
    assert "error: releases/web.yaml:3:1: `historyMax`: -1 is less than the minimum of 0" in outcome.out
    assert ("error: environments/prod.yaml:3:5: `wave` must be an integer, not 'first' "
            "(at /clusters/0/wave, environment layer)") in outcome.out


def test_case3_values_schema_from_chart(basic_repo: Path, helmkit):
    write(basic_repo, "environments/dev.yaml",
          "clusters: [{name: dev-1}]\nreleases:\n  web:\n    values:\n      replicaCount: many\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert "error: environments/dev.yaml:5:7: dev/dev-1/web: value /replicaCount does not match" in outcome.out
    assert "(at /replicaCount, environment layer)" in outcome.out
    assert "hint: see charts/web/values.schema.json" in outcome.out


def test_case2_a_chart_values_yaml_that_cannot_be_loaded(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.yaml", "replicaCount: 1\nimage: {tag: a}\nreplicaCount: 2\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert "error: charts/web/values.yaml:3:1: duplicate key 'replicaCount' (first at line 1)" in outcome.out
    assert outcome.out.count("charts/web/values.yaml") == 1  # once, not once per release instance


def test_case3_values_schema_ref_is_never_fetched(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.schema.json",
          '{"properties": {"replicaCount": {"$ref": "http://127.0.0.1:9/never.json"}}}')
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert "charts/web/values.schema.json: the chart's values schema has a $ref helmkit does not follow" in outcome.out


def test_case3_self_referencing_values_schema(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.schema.json", '{"$ref": "#"}')
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert "refers to itself without end" in outcome.out


LAYERED_SCHEMA = """{
  "type": "object", "additionalProperties": false, "required": ["replicaCount", "image", "db"],
  "properties": {
    "replicaCount": {"type": "integer"},
    "host": {"type": "string"},
    "image": {"type": "object", "additionalProperties": false, "required": ["repository", "digest"],
              "properties": {"repository": {"type": "string"}, "digest": {},
                             "tag": {"type": "string", "pattern": "^[a-z0-9.]+$"},
                             "pullPolicy": {"enum": ["Always", "IfNotPresent"]}}},
    "db": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "port": {}}}
  }
}"""
LAYERED_ENV = """clusters: [{name: dev-1}]
releases:
  web:
    values:
      bogus: 1
      replicaCount: many
      image:
        tag: Latest!
        pullPolicy: Sometimes
        extra: x
      db:
        port: 5432
"""


def test_case3_every_chart_schema_error_points_at_the_layer_and_line_that_set_the_value(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.schema.json", LAYERED_SCHEMA)
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespace: web\n")
    write(basic_repo, "environments/dev.yaml", LAYERED_ENV)
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    errors = [line for line in outcome.out.splitlines() if line.startswith("error: ") and "dev/dev-1/web:" in line]
    expected = {  # keyword: (file:line:column, pointer) -- every one in the environment file that set it
        "'bogus' was unexpected": ("environments/dev.yaml:5:7", "/bogus"),  # additionalProperties
        "'many' is not of type 'integer'": ("environments/dev.yaml:6:7", "/replicaCount"),  # type
        "does not match '^[a-z0-9.]+$'": ("environments/dev.yaml:8:9", "/image/tag"),  # pattern
        "'Sometimes' is not one of": ("environments/dev.yaml:9:9", "/image/pullPolicy"),  # enum
        "'extra' was unexpected": ("environments/dev.yaml:10:9", "/image/extra"),  # additionalProperties, nested
        "'digest' is a required property": ("environments/dev.yaml:8:9", "/image"),  # required (the chart set
        # image.repository, the environment image.tag: the environment is the most specific layer there)
        "'name' is a required property": ("environments/dev.yaml:12:9", "/db"),  # required
    }
    for fragment, (where, pointer) in expected.items():
        line = next((e for e in errors if fragment in e), None)
        assert line is not None, (fragment, outcome.out)
        assert line.startswith(f"error: {where}: dev/dev-1/web: value {pointer} "), line
        assert line.endswith(f"(at {pointer}, environment layer)"), line
    assert len(errors) == len(expected), outcome.out
    assert not any("charts/web/values.yaml" in line for line in errors)


@pytest.mark.timeout(120)  # with a backtracking engine this pattern would not finish in a lifetime
def test_case3_schema_patterns_match_in_linear_time(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.schema.json",
          '{"properties": {"host": {"pattern": "^(a+)+$|example"}}, '
          '"patternProperties": {"^(x+)+$": {"type": "integer"}}}')
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nreleases:\n  web:\n    values:\n"
          f"      host: {'a' * 60}!\n      {'x' * 60}y: 1\n      {'x' * 60}: one\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert f"value /host does not match the chart's values schema: '{'a' * 60}!' does not match" in outcome.out
    assert f"value /{'x' * 60} does not match the chart's values schema: 'one' is not of type 'integer'" in outcome.out
    assert "invalid: 2 errors" in outcome.out


def test_case3_a_schema_pattern_re2_cannot_compile_is_an_error_at_the_schema(basic_repo: Path, helmkit):
    write(basic_repo, "charts/web/values.schema.json", '{"properties": {"host": {"pattern": "^(?!www)"}}}')
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert ("error: charts/web/values.schema.json: the chart's values schema has a pattern that RE2 cannot use: "
            "'^(?!www)': invalid perl operator: (?!") in outcome.out
    assert "hint: helm matches schema patterns with Go's RE2 too" in outcome.out
    assert "re2.cc" not in outcome.out + outcome.err  # RE2's own log line is kept off stderr


def test_case4_paths_escaping_the_repo(basic_repo: Path, helmkit):
    secret = basic_repo.parent / "secret.yaml"
    secret.write_text(f"password: {CANARY}\n")
    (basic_repo / "values" / "escape.yaml").symlink_to(secret)
    (basic_repo / "charts" / "escape").symlink_to(basic_repo.parent)
    write(basic_repo, "releases/web.yaml",
          "chart: {path: charts/web}\nvaluesFiles: [values/escape.yaml, ../secret.yaml, /etc/passwd, ~/x.yaml]\n")
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/escape}\n")
    outcome = helmkit("--repo", str(basic_repo), "validate")
    assert_clean(outcome)
    assert CANARY not in outcome.out + outcome.err
    assert "releases/web.yaml:2:15: values file refused: path 'values/escape.yaml' resolves outside" in outcome.out
    assert "releases/web.yaml:2:35: values file refused: path '../secret.yaml' climbs out" in outcome.out
    assert "releases/web.yaml:2:51: values file refused: path '/etc/passwd' is absolute" in outcome.out
    assert "releases/web.yaml:2:64: values file refused: path '~/x.yaml' starts with '~'" in outcome.out
    assert "releases/ingress.yaml:1:9: release `ingress`: chart path refused" in outcome.out


def test_case5_names_that_act_as_options_or_shell(basic_repo: Path, helmkit):
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/web}\nnamespace: -n\n")
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nreleases:\n  web:\n"
                                                "    namespace: --post-renderer=x\n")
    (basic_repo / "releases" / "$(touch x).yaml").write_text("chart: {path: charts/web}\n")
    outcome = helmkit("--repo", str(basic_repo), "validate")
    assert_clean(outcome)
    assert "release name '$(touch x)' is not a DNS-1123 name" in outcome.out
    assert "releases/ingress.yaml:2:1: release `ingress`: namespace '-n' is not a DNS-1123 label" in outcome.out
    assert ("environments/dev.yaml:4:5: release `web`: namespace '--post-renderer=x' is not a DNS-1123 label"
            in outcome.out)
    assert not (basic_repo / "x").exists()


def test_case5_long_release_name(basic_repo: Path, helmkit):
    (basic_repo / "releases" / f"{'a' * 54}.yaml").write_text("chart: {path: charts/web}\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render")
    assert_clean(outcome)
    assert "is longer than 53 characters" in outcome.out


def test_case7_needs_cycle_and_unknown(basic_repo: Path, helmkit):
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/web}\nneeds: [web]\n")
    write(basic_repo, "releases/cert-manager.yaml",
          "chart: {repository: jetstack, name: cert-manager, version: ^1.16.0}\nneeds: [ingres]\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev")
    assert_clean(outcome)
    assert ("error: releases/ingress.yaml:2:1: `needs` cycle on cluster dev-1: ingress → web → ingress" in outcome.out)
    assert ("error: releases/cert-manager.yaml:2:1: release `cert-manager` needs unknown release `ingres`\n"
            "  hint: did you mean `ingress`?") in outcome.out


def test_other_commands_fail_the_same_way(basic_repo: Path, helmkit):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nneeds: [nope]\n")
    for args in (["list", "--env", "dev"], ["graph", "--env", "dev"], ["explain", "web", "--env", "dev"]):
        outcome = helmkit("--repo", str(basic_repo), *args)
        assert_clean(outcome)
        assert "error: releases/web.yaml:2:1: release `web` needs unknown release `nope`" in outcome.err
