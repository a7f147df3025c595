"""Shard assignment: rendezvous hashing over SHA-256, 1-based shards, --shard parsing."""

from __future__ import annotations

import hashlib

import pytest

from helmkit.errors import InputError
from helmkit.model.instance import Cluster
from helmkit.model.shards import ClusterFilter, Shard, assign, parse_shard, shard_of

FLEET = [("prod", f"prod-{i:03d}") for i in range(200)]


def test_assignment_is_rendezvous_over_sha256() -> None:
    def weight(env: str, cluster: str, index: int) -> int:
        return int.from_bytes(hashlib.sha256(f"{env}/{cluster}#{index}".encode()).digest(), "big")

    for env, cluster in FLEET[:20]:
        expected = max(range(1, 5), key=lambda i: weight(env, cluster, i))
        assert shard_of(env, cluster, 4) == expected


def test_known_values_never_change() -> None:
    """Shards of one run may be computed by different helmkit builds: these numbers are a contract."""
    assert [shard_of("prod", name, 4) for name in ("prod-us-east-1", "prod-us-west-2", "prod-eu-west-1",
                                                    "prod-ap-southeast-1")] == [4, 4, 1, 3]
    assert [shard_of("prod", f"prod-{i:03d}", 4) for i in range(12)] == [2, 3, 1, 4, 2, 2, 2, 1, 2, 3, 2, 3]
    assert shard_of("prod", "anything", 1) == 1


def test_every_cluster_in_exactly_one_shard_and_balanced() -> None:
    shards = assign(FLEET, 4)
    assert sorted(pair for members in shards.values() for pair in members) == sorted(FLEET)
    assert all(35 <= len(members) <= 65 for members in shards.values())  # 50 expected each


def test_adding_a_cluster_moves_no_other() -> None:
    before = {pair: shard_of(*pair, 4) for pair in FLEET}
    grown = [*FLEET, ("prod", "prod-new")]
    after = {pair: shard_of(*pair, 4) for pair in grown}
    assert all(after[pair] == before[pair] for pair in FLEET)


def test_one_more_shard_moves_only_what_it_wins() -> None:
    moved = [pair for pair in FLEET if shard_of(*pair, 4) != shard_of(*pair, 5)]
    assert all(shard_of(*pair, 5) == 5 for pair in moved)  # a cluster moves only to the new shard
    assert 20 <= len(moved) <= 60  # about 1/5 of 200


def test_env_is_part_of_the_key() -> None:
    differ = [c for _, c in FLEET if shard_of("prod", c, 4) != shard_of("staging", c, 4)]
    assert differ


@pytest.mark.parametrize("text", ["1/1", "1/4", "4/4", " 2 / 4 "])
def test_parse_valid(text: str) -> None:
    shard = parse_shard(text)
    assert 1 <= shard.index <= shard.count
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize(("text", "message"), [
    ("0/4", "shard 0 does not exist among 4 shards"),
    ("5/4", "shard 5 does not exist among 4 shards"),
    ("1/0", "the number of shards must be 1 to"),
    ("x", "is not a shard"),
    ("1-4", "is not a shard"),
    ("-1/4", "is not a shard"),
])
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_shard(text)
    rendered = caught.value.render()
    assert message in rendered and "--shard" in rendered and "numbered from 1" in rendered


def test_filter_applies_shard_and_wave() -> None:
    clusters = [Cluster(name, env, name, wave=i % 3) for i, (env, name) in enumerate(FLEET[:30])]
    shard = Shard(2, 3)
    kept = [c for c in clusters if ClusterFilter(shard, 1).keeps(c)]
    assert kept and all(c.wave == 1 and shard_of(c.env, c.name, 3) == 2 for c in kept)
    assert all(ClusterFilter().keeps(c) for c in clusters)
    assert not ClusterFilter().active and ClusterFilter(wave=0).active
    assert ClusterFilter(shard, 1).describe() == "shard 2/3, wave 1"
