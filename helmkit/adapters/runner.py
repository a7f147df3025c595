"""The one door through which helmkit starts processes.

Every helm, kubectl or git process goes through :class:`Runner.run`: argv is a list (never a
shell), each call has a timeout, the environment is explicit, and any error raised carries argv
and stderr masked by the run's :class:`~helmkit.adapters.masking.Masker`. The runner counts the
processes it started (benchmarks and tests read ``started``) and keeps the running ones so an
interrupt can signal and await them. A helm process given ``--kube-context`` reads the kubeconfig
of that context alone when the run provides one (``kubeconfig_for``,
:mod:`helmkit.adapters.kubeslim`), from a memory file that lives as long as the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters.masking import Masker
from helmkit.errors import ToolError

DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _text(data: bytes) -> str:
    """A process's output as text, newlines as text mode reads them (decoded here: text mode's
    newline translation took seconds a sync on megabytes of rendered CRDs)."""
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass
class Runner:
    """Starts processes. One per run; pass it down in the context."""

    masker: Masker = field(default_factory=Masker)
    base_env: Mapping[str, str] | None = None
    started: Counter[str] = field(default_factory=Counter)
    _running: set[subprocess.Popen[bytes]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)  # terminate_all ran: nothing starts
    kubeconfig_for: Callable[[str, str | None], bytes | None] | None = None  # (context, --kubeconfig) -> file

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        stdin: str | None = None,
        check: bool = True,
        what: str | None = None,
    ) -> Result:
        """Run ``argv`` and return its output; raise :class:`ToolError` on failure if ``check``."""
        argv = [str(a) for a in argv]
        full_env = dict(os.environ if self.base_env is None else self.base_env)
        if env:
            full_env.update(env)
        with self._lock:
            if self._stopping.is_set():
                raise ToolError(f"{what or Path(argv[0]).name} not started: helmkit is stopping",
                                argv=self._masked_argv(argv))
            self.started[Path(argv[0]).name] += 1
        fds: tuple[int, ...] = ()
        if self.kubeconfig_for is not None and Path(argv[0]).name.startswith("helm") and "--kube-context" in argv:
            argv, fds = self._one_context(argv, full_env)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=full_env,
                cwd=cwd,
                pass_fds=fds,
                start_new_session=True,  # a terminal's Ctrl-C reaches helmkit only; we decide
            )
        except OSError as exc:
            raise ToolError(
                f"cannot start {Path(argv[0]).name}: {exc.strerror}",
                argv=self._masked_argv(argv),
                hint="check the path of the binary (helmkit version shows which helm is used)",
            ) from None
        finally:
            for fd in fds:
                os.close(fd)  # the child has its own
        with self._lock:
            self._running.add(proc)
            late = self._stopping.is_set()  # terminate_all ran while it started: it did not see this one
        if late:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(stdin.encode("utf-8") if stdin is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            proc.communicate()
            raise ToolError(
                f"{what or Path(argv[0]).name} timed out after {timeout:.0f}s",
                argv=self._masked_argv(argv),
            ) from None
        finally:
            with self._lock:
                self._running.discard(proc)
        result = Result(argv, proc.returncode, _text(out), _text(err))
        if check and not result.ok:
            raise self.error(result, what)
        return result

    def _one_context(self, argv: list[str], env: dict[str, str]) -> tuple[list[str], tuple[int, ...]]:
        """``argv`` and ``env`` reading the kubeconfig of the ``--kube-context`` alone, from a memory file."""
        at = argv.index("--kube-context")
        given = argv[argv.index("--kubeconfig") + 1] if "--kubeconfig" in argv[:-1] else None
        data = self.kubeconfig_for(argv[at + 1], given) if self.kubeconfig_for and at + 1 < len(argv) else None
        memfd_create = getattr(os, "memfd_create", None)
        if data is None or memfd_create is None:
            return argv, ()
        fd = memfd_create("helmkit-kubeconfig")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if given is not None:
            cut = argv.index("--kubeconfig")
            argv = argv[:cut] + argv[cut + 2:]
        env["KUBECONFIG"] = f"/proc/self/fd/{fd}"
        return argv, (fd,)

    def error(self, result: Result, what: str | None = None) -> ToolError:
        name = what or " ".join(Path(result.argv[0]).name.split()[:1] + result.argv[1:2])
        return ToolError(
            f"{name} failed (exit {result.returncode})",
            argv=self._masked_argv(result.argv),
            stderr=self.masker.mask(result.stderr),
            returncode=result.returncode,
        )

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def terminate_all(self, grace: float = 10.0) -> None:
        """Signal every running process (SIGTERM, then SIGKILL after ``grace``) and await them; from
        now on nothing starts, and a process that was starting meanwhile is signalled as it starts."""
        with self._lock:
            self._stopping.set()
            procs = list(self._running)
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._kill(proc)

    def _masked_argv(self, argv: list[str]) -> list[str]:
        return [self.masker.mask(a) for a in argv]

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
