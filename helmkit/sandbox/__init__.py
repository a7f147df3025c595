"""helmkit.sandbox."""
