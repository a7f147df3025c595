"""``helmkit list --shards N`` (golden), ``--shard`` validation on every command, ``report merge`` input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_list_shards_table_and_json(golden, basic_repo: Path, helmkit) -> None:
    table = helmkit("--repo", str(basic_repo), "list", "-e", "prod", "--shards", "3")
    assert table.code == 0, table.err
    golden("list-shards.txt", table.out)
    data = json.loads(helmkit("--repo", str(basic_repo), "list", "-e", "prod", "--shards", "3", "-o", "json").out)
    assert [item["shard"] for item in data] == ["1/3", "2/3", "3/3"]
    clusters = [c for item in data for c in item["clusters"]]
    assert sorted(clusters) == ["prod-eu-west-1", "prod-us-east-1"]  # the basic repo's prod


def test_list_shards_out_of_range(basic_repo: Path, helmkit) -> None:
    outcome = helmkit("--repo", str(basic_repo), "list", "-e", "prod", "--shards", "0")
    assert outcome.code == 1 and "error: --shards: --shards 0: the number of shards must be 1 to 1000" in outcome.err


@pytest.mark.parametrize("command", ["diff", "drift", "status", "sync"])
@pytest.mark.parametrize(("shard", "message"), [("0/2", "shard 0 does not exist among 2 shards"),
                                                 ("3/2", "shard 3 does not exist among 2 shards"),
                                                 ("two", "'two' is not a shard")])
def test_bad_shard_is_one_clear_error(basic_repo: Path, helmkit, command: str, shard: str, message: str) -> None:
    outcome = helmkit("--repo", str(basic_repo), command, "-e", "prod", "--shard", shard)
    assert outcome.code == 1
    assert outcome.err.startswith("error: --shard: ") and message in outcome.err
    assert "hint: write I/N with 1 <= I <= N" in outcome.err and "Traceback" not in outcome.err


def test_report_merge_input_errors(tmp_path: Path, basic_repo: Path, helmkit) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    outcome = helmkit("--repo", str(basic_repo), "report", "merge", str(tmp_path / "bad.json"))
    assert outcome.code == 1 and f"error: {tmp_path / 'bad.json'}: the report is not JSON" in outcome.err
    (tmp_path / "plain.json").write_text(json.dumps({"format": "helmkit.dev/drift-report/v1", "findings": []}))
    outcome = helmkit("--repo", str(basic_repo), "report", "merge", str(tmp_path / "plain.json"))
    assert outcome.code == 1 and "without a `shard` block" in outcome.err
    (tmp_path / "sync.json").write_text(json.dumps({"summary": {}, "gates": {}}))
    outcome = helmkit("--repo", str(basic_repo), "report", "merge", str(tmp_path / "sync.json"),
                      str(tmp_path / "plain.json"))
    assert outcome.code == 1 and "merge drift reports with drift reports" in outcome.err
    outcome = helmkit("--repo", str(basic_repo), "report", "merge", str(tmp_path / "sync.json"), "-o", "html")
    assert outcome.code == 1 and "sync reports merge into table, json, markdown, not html" in outcome.err
    outcome = helmkit("--repo", str(basic_repo), "report", "merge")
    assert outcome.code == 1 and "no reports to merge" in outcome.err
