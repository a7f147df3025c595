"""helmkit.model."""
