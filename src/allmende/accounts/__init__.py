"""The node's users: accounts with roles, password hashing, log-in sessions and the log-in rate limit."""
