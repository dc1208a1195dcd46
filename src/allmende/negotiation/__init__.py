"""negotiation domain."""
