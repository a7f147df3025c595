"""The run context loads the kubeconfig code only in runs that read a kubeconfig (template, validate
and the other offline commands start faster)."""

import subprocess
import sys
from pathlib import Path


def test_kubeconfig_code_loads_on_first_use(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from helmkit.context import Context; "
            f"ctx = Context(repo=Path({str(tmp_path)!r})); "
            "print('helmkit.adapters.kubeconfig' in sys.modules); "
            "files = ctx.kubeconfigs; print('helmkit.adapters.kubeconfig' in sys.modules, files is ctx.kubeconfigs)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]
