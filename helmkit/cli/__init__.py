"""helmkit.cli."""
