"""helmkit.adapters."""
