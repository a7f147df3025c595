"""A real git repository in a temp folder, driven with the git binary through helmkit's runner
(shared by the tests of the git adapter, the affected set and the pre-merge commands)."""

from __future__ import annotations

from pathlib import Path

from helmkit.adapters.runner import Runner

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


class Work:
    """``git init`` in ``root``; write files, commit them, run git."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = Runner()
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return self.runner.run(["git", "-C", str(self.root), *args], env=GIT_ENV).stdout.strip()

    def write(self, rel: str, text: str, *, executable: bool = False) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if executable:
            path.chmod(0o755)

    def append(self, rel: str, text: str) -> None:
        self.write(rel, (self.root / rel).read_text() + text)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD")
