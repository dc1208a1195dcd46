"""protocol domain."""
