"""Knowledge hub: good-practice cases, funding programmes, expertise, cooperation, events and IT-security
help; their publication, the federated knowledge index, hybrid search and matchmaking (issue 7)."""
