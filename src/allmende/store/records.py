"""Imports every domain's records so that ``Base.metadata`` knows all tables (for alembic)."""

from allmende.accounts.records import UserRecord, WebSessionRecord
from allmende.api.records import ApiKeyRecord
from allmende.audit.records import AuditRecord
from allmende.benchmarking.records import (
    BenchmarkParticipationRecord,
    BenchmarkRoundParticipantRecord,
    BenchmarkRoundRecord,
    BenchmarkShareRecord,
)
from allmende.catalog.records import AssetRecord, OfferRecord
from allmende.compute.records import ApprovedAlgorithmRecord, ComputeJobRecord
from allmende.knowledge.discussion_records import (
    OutgoingPostRecord,
    PostRecord,
    ReportRecord,
    TopicRecord,
)
from allmende.knowledge.records import (
    KnowledgeIndexRecord,
    KnowledgeItemRecord,
    KnowledgeSourceRecord,
    KnowledgeVersionRecord,
)
from allmende.messaging.records import OutboxRecord
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.network.records import (
    DirectoryEntryRecord,
    FederatedDatasetRecord,
    FederatedNodeRecord,
    MembershipRecord,
)
from allmende.store.base import Base
from allmende.store.replay_records import SeenTokenRecord
from allmende.transfer.records import TransferRecord

__all__ = [
    "AgreementRecord",
    "ApiKeyRecord",
    "ApprovedAlgorithmRecord",
    "AssetRecord",
    "AuditRecord",
    "Base",
    "BenchmarkParticipationRecord",
    "BenchmarkRoundParticipantRecord",
    "BenchmarkRoundRecord",
    "BenchmarkShareRecord",
    "ComputeJobRecord",
    "DirectoryEntryRecord",
    "FederatedDatasetRecord",
    "FederatedNodeRecord",
    "KnowledgeIndexRecord",
    "KnowledgeItemRecord",
    "KnowledgeSourceRecord",
    "KnowledgeVersionRecord",
    "MembershipRecord",
    "NegotiationRecord",
    "OfferRecord",
    "OutboxRecord",
    "OutgoingPostRecord",
    "PostRecord",
    "ReportRecord",
    "SeenTokenRecord",
    "TopicRecord",
    "TransferRecord",
    "UserRecord",
    "WebSessionRecord",
]
