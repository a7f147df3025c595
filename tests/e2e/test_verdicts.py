"""Verdicts never hide a change: a release judged in sync is settled without helm only while its
inputs (secrets included) and its Helm record are unchanged; live objects likewise. Real helm
3.19 / 4.1 and kubectl against a sandbox cluster."""

from __future__ import annotations

import json

import pytest

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.livecheck import LiveChecks, check_live
from helmkit.actions.livestate import Assessment, AssessOptions, assess
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from helmkit.context import Context
from helmkit.plan.status import Status
from tests.e2e.test_repair import NS, image, kubectl, shop
from tests.e2e.test_sync_support import CANARY, Fleet

pytestmark = pytest.mark.e2e
__all__ = ["shop"]  # the fixture, imported for these tests


def templates(fleet: Fleet) -> list[list[str]]:
    return [argv for argv in fleet.argvs if "template" in argv or "--dry-run=server" in argv]


def status_rows(fleet: Fleet) -> list[dict[str, object]]:
    outcome = fleet.run(status, StatusOptions(env="prod", fmt="json"))
    assert outcome.code == 0, outcome.out + outcome.err
    rows: list[dict[str, object]] = json.loads(outcome.out)
    return rows


def test_a_verdict_spares_helm_until_a_secret_or_the_record_changes(shop: Fleet,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0  # in sync: a verdict is kept
    verdicts = list((shop.root / ".helmkit" / "cache" / "verdicts").rglob("*"))
    assert any(p.is_file() for p in verdicts)
    assert not any(CANARY in p.read_text(errors="replace") for p in verdicts if p.is_file())

    shop.argvs.clear()
    again = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert again.code == 0, again.out + again.err
    assert templates(shop) == [], shop.argvs  # the release renders with a resolved secret: no cache, but a verdict
    settled = status_rows(shop)
    assert [(r["release"], r["status"], r["chart"], r["revision"]) for r in settled] == [
        ("web", "in-sync", "shop-1.0.0", 1)]
    cache = shop.root / ".helmkit" / "cache"
    for folder in ("verdicts", "live-verdicts"):
        for path in (cache / folder).rglob("*"):
            if path.is_file():
                path.unlink()
    assert status_rows(shop) == settled  # the same table without any verdict

    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY + "-rotated")  # a new secret value: rendered again
    shop.argvs.clear()
    rotated = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert rotated.code == 2, rotated.out + rotated.err
    assert templates(shop), shop.argvs
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY)
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0

    # the record changes behind helmkit's back: the same inputs no longer settle it
    upgraded = shop.helm("upgrade", "web", str(shop.root / "charts" / "shop"), "-n", NS, "--reuse-values",
                         "--set", "greeting=by-hand", context="c1")
    assert upgraded.ok, upgraded.stderr
    behind = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert behind.code == 2, behind.out + behind.err
    assert [r["status"] for r in status_rows(shop)] != ["in-sync"]


def test_live_verdicts_never_hide_a_later_hand_edit(shop: Fleet) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    for _ in range(2):  # the second run settles every live object by its verdict
        assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0
    kept = [p for p in (shop.root / ".helmkit" / "cache" / "live-verdicts").iterdir() if p.is_file()]
    assert kept and kept[0].read_text().split()
    kubectl(shop, "set", "image", "deployment/web", "-n", NS, "app=nginx:by-hand")
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err
    assert "spec.template.spec.containers[name=app].image: nginx:by-hand -> nginx:1.27" in shown.out, shown.out
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    assert image(shop) == "nginx:1.27"
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0



def test_a_sync_keeps_verdicts_for_what_it_deployed(shop: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    shop.argvs.clear()
    nothing = shop.run(sync, SyncOptions(env="prod", yes=True))  # the next sync: nothing to do, no helm at all
    assert nothing.code == 0, nothing.out + nothing.err
    assert templates(shop) == [] and not [a for a in shop.argvs if "upgrade" in a], shop.argvs
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY + "-rotated")
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 2  # still judged anew


def test_a_release_found_clean_is_settled_from_metadata_until_an_object_changes(shop: Fleet) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0  # keeps the release verdict
    seen: list[tuple[Assessment, LiveChecks]] = []

    def probe(ctx: Context, _: object) -> int:
        assessment = assess(ctx, AssessOptions("prod", decode_settled=False))
        seen.append((assessment, check_live(ctx, assessment)))
        return 0

    shop.run(probe, None)
    assessment, checks = seen.pop()
    [web] = assessment.releases
    assert web.state.status is Status.IN_SYNC and web.deployed is not None
    assert web.deployed.summary  # vouched for by its objects' versions: the record was never decoded
    drift = checks.releases[web.state.key].drift
    assert drift is not None and not drift.objects

    kubectl(shop, "delete", "configmap/web-cfg", "-n", NS)
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err
    assert "+ v1/ConfigMap shop/web-cfg: missing from the cluster; re-created" in shown.out, shown.out
    shop.run(probe, None)
    assessment, _ = seen.pop()
    [web] = assessment.releases
    assert web.state.status is Status.LIVE_DRIFT and web.deployed is not None and not web.deployed.summary

    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0  # repaired: clean again, then vouched for
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0
    kubectl(shop, "annotate", "deployment/web", "-n", NS, "by-hand=yes")  # a field the chart does not set
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0
    kubectl(shop, "set", "image", "deployment/web", "-n", NS, "app=nginx:by-hand")
    edited = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert edited.code == 2, edited.out + edited.err
    assert "nginx:by-hand -> nginx:1.27" in edited.out, edited.out
