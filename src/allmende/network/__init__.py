"""The network: directories of communities, membership credentials, the federated catalog and search."""
