"""helmkit.actions."""
