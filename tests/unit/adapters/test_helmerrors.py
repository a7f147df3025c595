"""helm's own error lines out of its stderr: ``Error:`` lines, and for a Go panic its message and failing frame."""

from __future__ import annotations

from helmkit.adapters.helmerrors import error_lines

HELM4_CONFLICT = """\
level=WARN msg="upgrade failed" name=web error="conflict occurred while applying object"
Error: UPGRADE FAILED: conflict occurred while applying object shop/web apps/v1, Kind=Deployment: Apply failed \
with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="app"].image
"""

SCHEMA = """\
Error: values don't meet the specifications of the schema(s) in the following chart(s):
shop:
- replicas: Invalid type. Expected: integer, given: string
"""

PANIC = """\
panic: runtime error: invalid memory address or nil pointer dereference [recovered]
\tpanic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c6a2f1]

goroutine 1 [running]:
k8s.io/apimachinery/pkg/util/runtime.HandleCrash({0x0, 0x0, 0x0})
\t/home/runner/go/pkg/mod/k8s.io/apimachinery@v0.34.0/pkg/util/runtime/runtime.go:56 +0xd7
panic({0x2a4c3e0?, 0x4b2d9f0?})
\t/opt/hostedtoolcache/go/1.24.0/x64/src/runtime/panic.go:791 +0x132
helm.sh/helm/v3/pkg/kube.(*ReadyChecker).deploymentReady(0xc0005a6a80, 0xc000a2e008, 0xc000a36008)
\t/home/runner/work/helm/helm/pkg/kube/ready.go:400 +0x71
helm.sh/helm/v3/pkg/kube.(*ReadyChecker).IsReady(0xc0005a6a80, {0x2c4b0f0, 0xc00012e000}, 0xc0008b3b80)
\t/home/runner/work/helm/helm/pkg/kube/ready.go:123 +0x5d1
main.main()
\t/home/runner/work/helm/helm/cmd/helm/helm.go:83 +0x1c5

goroutine 18 [select]:
k8s.io/klog/v2.(*flushDaemon).run.func1()
\t/home/runner/go/pkg/mod/k8s.io/klog/v2@v2.130.1/klog.go:1141 +0x117
"""


def test_the_error_line_not_helm4s_log_lines() -> None:
    lines = error_lines(HELM4_CONFLICT)
    assert len(lines) == 1 and lines[0].startswith("Error: UPGRADE FAILED: conflict occurred")
    assert 'conflict with "kubectl-set"' in lines[0]


def test_a_multi_line_error_keeps_its_lines() -> None:
    assert error_lines(SCHEMA) == SCHEMA.strip().splitlines()


def test_a_panic_gives_its_message_and_the_failing_frame_not_the_last_line() -> None:
    assert error_lines(PANIC) == [
        "panic: runtime error: invalid memory address or nil pointer dereference [recovered]",
        "  at helm.sh/helm/v3/pkg/kube.(*ReadyChecker).deploymentReady (pkg/kube/ready.go:400)",
    ]


def test_no_error_line_gives_the_last_line_and_nothing_gives_nothing() -> None:
    assert error_lines("first\nsecond\n\n") == ["second"]
    assert error_lines("") == []
