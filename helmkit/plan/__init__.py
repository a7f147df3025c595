"""helmkit.plan."""
