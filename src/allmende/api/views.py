"""JSON views of records for the management API and the CLI's --json output."""

from __future__ import annotations

from typing import Any

from allmende.audit.records import AuditRecord
from allmende.catalog.records import AssetRecord, OfferRecord
from allmende.clock import isoformat
from allmende.negotiation.records import AgreementRecord, NegotiationRecord


def asset_view(asset: AssetRecord) -> dict[str, Any]:
    return {
        "id": asset.id,
        "title": asset.title,
        "description": asset.description,
        "keywords": asset.keywords,
        "mediaType": asset.media_type,
        "byteSize": asset.byte_size,
        "sha256": asset.sha256,
        "source": {"kind": asset.source.get("kind")},
        "created": isoformat(asset.created_at),
    }


def offer_view(offer: OfferRecord) -> dict[str, Any]:
    return {
        "id": offer.id,
        "assetId": offer.asset_id,
        "template": offer.template,
        "policy": offer.policy,
        "accessPolicy": offer.access_policy,
        "reviewRequired": offer.review_required,
        "published": offer.published,
        "created": isoformat(offer.created_at),
    }


def negotiation_view(record: NegotiationRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "role": record.role,
        "state": record.state,
        "providerPid": record.provider_pid,
        "consumerPid": record.consumer_pid,
        "counterparty": record.counterparty_did,
        "offerId": record.offer_id,
        "datasetId": record.dataset_id,
        "offer": record.offer,
        "agreementId": record.agreement_id,
        "reviewPending": record.review_pending,
        "reviewNote": record.review_note,
        "terminationReason": record.termination_reason,
        "created": isoformat(record.created_at),
        "updated": isoformat(record.updated_at),
    }


def agreement_view(record: AgreementRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "negotiationId": record.negotiation_id,
        "role": record.role,
        "provider": record.provider_did,
        "consumer": record.consumer_did,
        "target": record.target,
        "policy": record.policy,
        "digest": record.digest,
        "providerSignature": record.provider_signature,
        "consumerSignature": record.consumer_signature,
        "signed": isoformat(record.signed_at),
        "finalized": isoformat(record.finalized_at) if record.finalized_at else None,
        "terminated": isoformat(record.terminated_at) if record.terminated_at else None,
        "terminationReason": record.termination_reason,
    }


def audit_view(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": isoformat(record.at),
        "actor": record.actor,
        "event": record.event,
        "subject": record.subject,
        "detail": record.detail,
        "messageDigest": record.message_digest,
        "hash": record.entry_hash,
    }
