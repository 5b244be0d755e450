"""The core's own endpoints: root, health, version (and the error views)."""
