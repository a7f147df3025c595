"""helmkit's sandbox: an in-memory Kubernetes API server for real helm and kubectl.

One process serves any number of independent clusters, each on its own 127.0.0.1 port (HTTPS
with a self-signed certificate that the kubeconfig trusts: client-go sends bearer tokens only
over TLS) with its own bearer token, store, faults and request log::

    with Sandbox(["dev-1", "dev-2"]) as sandbox:
        sandbox.write_kubeconfig(tmp / "kubeconfig")          # contexts dev-1, dev-2 (mode 0600)
        sandbox.faults("dev-2").fail("PATCH", r"/deployments/", status=500, count=1)
        ...  # run helm/kubectl with KUBECONFIG=tmp/kubeconfig
        [(r.seq, r.method, r.path) for r in sandbox.requests("dev-1")]

Other processes reach faults and request logs through the admin endpoint
(``AdminClient(sandbox.admin_url, sandbox.admin_token)``). ``python -m helmkit.sandbox
--cluster NAME ...`` serves in the foreground; :mod:`helmkit.sandbox.daemon` starts and stops a
background one (``helmkit sandbox up/down``). With a state file, objects survive restarts.

Objects of built-in kinds get the defaults of a Kubernetes 1.34 API server
(:mod:`helmkit.sandbox.defaults`). What is not served: protobuf bodies of kinds other than those
typed clients create (:mod:`helmkit.sandbox.protoschema`; ``kubectl apply`` and helm use JSON),
admission webhooks, finalizers (deletes are immediate). Workloads have Pods, which can be made
to crash-loop or stay unready (:mod:`helmkit.sandbox.pods`).
This package imports nothing else from helmkit.
"""

from helmkit.sandbox import daemon
from helmkit.sandbox.admin import AdminClient, RemoteFaults
from helmkit.sandbox.cluster import ClusterState
from helmkit.sandbox.faults import Faults, RequestLog, RequestRecord
from helmkit.sandbox.fleet import Sandbox, kubeconfig_text, write_kubeconfig

__all__ = [
    "AdminClient",
    "ClusterState",
    "Faults",
    "RemoteFaults",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "daemon",
    "kubeconfig_text",
    "write_kubeconfig",
]
