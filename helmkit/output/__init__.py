"""helmkit.output."""
