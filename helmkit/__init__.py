"""helmkit: manage Helm releases for a fleet of Kubernetes clusters from one git repository."""

__version__ = "0.1.0"
