"""Sync on a terminal shows the diff it is about to apply before it asks (as `terraform apply`
shows its plan); answering no applies nothing."""

from __future__ import annotations

import io
import re

import pytest

from helmkit.actions.sync import SyncOptions, sync
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import Fleet

stage = support.stage  # fixture


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_prompt_comes_after_the_diff_it_applies_and_no_applies_nothing(
        stage: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True)).code == 0
    env_file = stage.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text().replace("flushSeconds: 1", "flushSeconds: 7"))
    monkeypatch.setenv("TERM", "xterm")
    ctx = stage.context()
    ctx.console.err = _Terminal()
    shown: list[str] = []

    def answer(question: str) -> bool:
        out = ctx.console.out
        assert isinstance(out, io.StringIO)
        shown.append(out.getvalue())
        return False

    upgrades_before = sum(1 for argv in stage.argvs if "upgrade" in argv[1:2])
    code = sync(ctx, SyncOptions(env="stage", confirm=answer))
    assert code == 1 and len(shown) == 1
    before_question = shown[0]
    assert "~ c1 log-shipper (namespace logging): out-of-sync +0 ~2 -0" in before_question
    assert "-flushSeconds: 1\n  +flushSeconds: 7" in before_question
    assert before_question.index("flushSeconds: 7") < before_question.rindex("upgrade")  # diff, then the plan
    assert support.CANARY not in before_question
    assert sum(1 for argv in stage.argvs if "upgrade" in argv[1:2]) == upgrades_before  # nothing applied


def test_the_summary_ends_with_the_total_time(stage: Fleet) -> None:
    synced = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert synced.code == 0, synced.err
    assert re.fullmatch(r"total time \d+\.\ds", synced.out.rstrip("\n").splitlines()[-1]), synced.out
