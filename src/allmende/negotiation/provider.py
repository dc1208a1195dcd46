"""The provider side of contract negotiation: incoming consumer messages and the owner's decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.negotiation import messages, repository
from allmende.negotiation.agreements import agreement_digest, build_agreement, declared_purposes
from allmende.negotiation.process import (
    NegotiationEnv,
    apply,
    callback_of,
    new_pid,
    open_process,
    pids,
    queue,
    queue_termination,
)
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Message, Role, State
from allmende.network.credentials import NO_MEMBERSHIPS, PresentedMemberships
from allmende.network.presentation import refusal_note
from allmende.policy.compute import negotiation_policy, offered_action
from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import EvaluationContext, evaluate
from allmende.policy.jsonld import policy_from_json, same_terms
from allmende.protocol.problems import bad_request


@dataclass(frozen=True)
class PublishedOffer:
    """An offer as the negotiation sees it: its terms, its dataset, and whether the owner reviews."""

    offer_id: str
    dataset_id: str
    policy: Mapping[str, Any]
    review_required: bool


class OfferLookup(Protocol):
    """How the negotiation finds a published offer visible to a caller (the catalog implements it)."""

    def visible_offer(
        self, session: Session, offer_id: str, caller_did: str, communities: frozenset[str] = frozenset()
    ) -> PublishedOffer | None: ...


class OfferLookups:
    """Several offer lookups asked in turn (the node's assets, then its knowledge items); the first
    that finds the offer for the caller answers."""

    def __init__(self, *lookups: OfferLookup) -> None:
        self.lookups = lookups

    def visible_offer(
        self, session: Session, offer_id: str, caller_did: str, communities: frozenset[str] = frozenset()
    ) -> PublishedOffer | None:
        """The offer ``offer_id`` from the first lookup that shows it to ``caller_did``."""
        for lookup in self.lookups:
            found = lookup.visible_offer(session, offer_id, caller_did, communities)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class Signature:
    """A verified agreement signature of the counterparty (its JWT and the digest it signs)."""

    token: str
    agreement_id: str
    digest: str


class ProviderNegotiations:
    """Handles the consumer's messages and the owner's review decisions."""

    def __init__(self, env: NegotiationEnv, offers: OfferLookup) -> None:
        self.env = env
        self.offers = offers

    # --- incoming messages -------------------------------------------------------------------

    def receive_initial_request(
        self,
        session: Session,
        caller: str,
        body: Mapping[str, Any],
        digest: str,
        presented: PresentedMemberships = NO_MEMBERSHIPS,
    ) -> tuple[dict[str, Any], bool]:
        """A new ContractRequestMessage. Returns (ContractNegotiation body, created?).

        Repeating a request with the same consumerPid is idempotent: the existing process is answered.
        ``presented`` holds the memberships the caller's credentials prove (for access and usage policies).
        """
        consumer_pid = str(body["consumerPid"])
        existing = repository.by_counterparty_pid(session, Role.PROVIDER, consumer_pid, caller)
        if existing is not None:
            return self._state_body(existing), False
        callback = callback_of(body, consumer_pid=consumer_pid)
        offer = dict(body["offer"])
        published = self._published(session, offer, caller, presented, consumer_pid=consumer_pid)
        record = open_process(
            session,
            role=Role.PROVIDER,
            state=State.REQUESTED,
            counterparty_did=caller,
            counterparty_address=callback,
            offer=offer,
            offer_id=published.offer_id,
            dataset_id=published.dataset_id,
            counterparty_pid=consumer_pid,
            actor=caller,
            digest=digest,
        )
        self._decide(session, record, published, offer, presented)
        return self._state_body(record), True

    def receive_request(
        self,
        session: Session,
        caller: str,
        provider_pid: str,
        body: Mapping[str, Any],
        digest: str,
        presented: PresentedMemberships = NO_MEMBERSHIPS,
    ) -> None:
        """A counter-offer (ContractRequestMessage on an existing process)."""
        record = repository.by_own_pid(session, Role.PROVIDER, provider_pid, caller)
        self._check_pids(record, body)
        offer = dict(body["offer"])
        published = self._published(session, offer, caller, presented, **pids(record))
        apply(session, record, Message.REQUEST, Role.CONSUMER, actor=caller, digest=digest)
        record.offer = offer
        self._decide(session, record, published, offer, presented)

    def receive_event(
        self, session: Session, caller: str, provider_pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """ContractNegotiationEventMessage: only ACCEPTED may come from a consumer."""
        record = repository.by_own_pid(session, Role.PROVIDER, provider_pid, caller)
        self._check_pids(record, body)
        if body.get("eventType") != "ACCEPTED":
            raise bad_request("a consumer may only send the event ACCEPTED", **pids(record))
        apply(session, record, Message.ACCEPTED, Role.CONSUMER, actor=caller, digest=digest)
        # The consumer accepted our own offer: agree to it.
        self._agree(session, record, actor=self.env.own_did)

    def receive_verification(
        self,
        session: Session,
        caller: str,
        provider_pid: str,
        body: Mapping[str, Any],
        digest: str,
        signature: Signature | None,
    ) -> None:
        """ContractAgreementVerificationMessage: store the consumer's signature, then finalize."""
        record = repository.by_own_pid(session, Role.PROVIDER, provider_pid, caller)
        self._check_pids(record, body)
        agreement = repository.agreement_of(session, record)
        covers = (
            agreement is None
            or signature is None
            or (signature.agreement_id == agreement.id and signature.digest == agreement.digest)
        )
        if not covers:
            raise bad_request("the consumer's signature does not cover this agreement", **pids(record))
        apply(session, record, Message.VERIFICATION, Role.CONSUMER, actor=caller, digest=digest)
        if agreement is not None:
            agreement.consumer_signature = signature.token if signature else None
        apply(session, record, Message.FINALIZED, Role.PROVIDER, actor=self.env.own_did)
        if agreement is not None:
            agreement.finalized_at = utcnow()
        queue(
            session,
            self.env,
            record,
            Message.FINALIZED,
            self._consumer_url(record, "events"),
            messages.negotiation_event(
                provider_pid=record.provider_pid or "",
                consumer_pid=record.consumer_pid or "",
                event_type="FINALIZED",
            ),
        )

    def receive_termination(
        self, session: Session, caller: str, provider_pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """ContractNegotiationTerminationMessage from the consumer."""
        record = repository.by_own_pid(session, Role.PROVIDER, provider_pid, caller)
        self._check_pids(record, body)
        reasons = body.get("reason") or []
        apply(
            session,
            record,
            Message.TERMINATION,
            Role.CONSUMER,
            actor=caller,
            digest=digest,
            detail={"reason": reasons},
        )
        record.termination_reason = "terminated by the consumer: " + "; ".join(str(r) for r in reasons)
        record.review_pending = False

    def state(self, session: Session, caller: str, provider_pid: str) -> dict[str, Any]:
        """GET /negotiations/:providerPid."""
        return self._state_body(repository.by_own_pid(session, Role.PROVIDER, provider_pid, caller))

    # --- the owner's decisions (review queue) --------------------------------------------------

    def agree(self, session: Session, negotiation_id: str, actor: str) -> NegotiationRecord:
        """The owner agrees to the request on the table."""
        record = self._reviewable(session, negotiation_id)
        self._agree(session, record, actor=actor)
        return record

    def counter_offer(
        self, session: Session, negotiation_id: str, offer: Mapping[str, Any], actor: str
    ) -> NegotiationRecord:
        """The owner answers with other terms (a ContractOfferMessage)."""
        record = self._reviewable(session, negotiation_id)
        try:
            policy_from_json(offer)
        except PolicyError as exc:
            raise bad_request(f"invalid offer: {exc}", **pids(record)) from None
        offer = {**offer, "@type": "Offer", "target": record.dataset_id}
        offer.setdefault("@id", new_pid())
        apply(session, record, Message.OFFER, Role.PROVIDER, actor=actor)
        record.offer = offer
        record.review_pending = False
        queue(
            session,
            self.env,
            record,
            Message.OFFER,
            self._consumer_url(record, "offers"),
            messages.contract_offer(
                provider_pid=record.provider_pid or "", consumer_pid=record.consumer_pid, offer=offer
            ),
        )
        return record

    def decline(self, session: Session, negotiation_id: str, reason: str, actor: str) -> NegotiationRecord:
        """The owner declines: the negotiation ends as TERMINATED with the reason."""
        record = repository.get(session, negotiation_id)
        if record is None or record.role != Role.PROVIDER.value:
            raise bad_request(f"no provider negotiation {negotiation_id}")
        apply(session, record, Message.TERMINATION, Role.PROVIDER, actor=actor, detail={"reason": reason})
        queue_termination(session, self.env, record, self._consumer_url(record, "termination"), reason)
        return record

    # --- internals -------------------------------------------------------------------------------

    def _published(
        self,
        session: Session,
        offer: Mapping[str, Any],
        caller: str,
        presented: PresentedMemberships,
        **ids: str | None,
    ) -> PublishedOffer:
        offer_id = offer.get("@id")
        published = (
            self.offers.visible_offer(session, str(offer_id), caller, presented.communities)
            if offer_id
            else None
        )
        if published is None:
            raise bad_request(f"unknown offer {offer_id!r}{refusal_note(presented)}", **ids)
        target = offer.get("target")
        if target is not None and target != published.dataset_id:
            raise bad_request(f"offer {offer_id} is not an offer for dataset {target!r}", **ids)
        return published

    def _decide(
        self,
        session: Session,
        record: NegotiationRecord,
        published: PublishedOffer,
        offer: dict[str, Any],
        presented: PresentedMemberships = NO_MEMBERSHIPS,
    ) -> None:
        """Agree on our own when the request repeats the published terms and the policy permits the caller."""
        try:
            repeats = same_terms(policy_from_json(offer), policy_from_json(published.policy))
        except PolicyError as exc:
            raise bad_request(f"invalid offer: {exc}", **pids(record)) from None
        if not repeats:
            self._queue_review(
                session, record, "the consumer proposes terms that differ from the published offer"
            )
            return
        if published.review_required or self.env.review_all_requests:
            self._queue_review(session, record, "the owner reviews every request for this offer")
            return
        now = utcnow()
        purposes = declared_purposes(offer)
        ctx = EvaluationContext(
            now=now,
            assignee=record.counterparty_did,
            purpose=next(iter(purposes)) if len(purposes) == 1 else None,
            agreement_start=now,
            target=published.dataset_id,
            party_collections=presented.communities,
        )
        terms = policy_from_json({**published.policy, "target": published.dataset_id})
        # A compute offer is agreed for computing; its per-job conditions are checked on each job.
        ctx = replace(ctx, action=offered_action(terms))
        decision = evaluate(negotiation_policy(terms), ctx)
        if decision.allowed:
            self._agree(session, record, actor=self.env.own_did)
            return
        reason = "the usage policy does not permit this request: " + "; ".join(decision.reasons)
        reason += refusal_note(presented)
        apply(
            session,
            record,
            Message.TERMINATION,
            Role.PROVIDER,
            actor=self.env.own_did,
            detail={"reason": reason},
        )
        queue_termination(session, self.env, record, self._consumer_url(record, "termination"), reason)

    def _queue_review(self, session: Session, record: NegotiationRecord, note: str) -> None:
        record.review_pending = True
        record.review_note = note
        audit.append(
            session,
            actor=self.env.own_did,
            event="negotiation.review_queued",
            subject=record.id,
            detail={"note": note},
        )

    def _agree(self, session: Session, record: NegotiationRecord, *, actor: str) -> None:
        offer = record.offer or {}
        agreement_id = new_pid()
        now = utcnow()
        agreement = build_agreement(
            offer,
            agreement_id=agreement_id,
            target=record.dataset_id or str(offer.get("target")),
            assigner=self.env.own_did,
            assignee=record.counterparty_did,
            timestamp=now,
        )
        digest = agreement_digest(agreement)
        signature = self.env.sign_agreement(record.counterparty_did, agreement_id, digest)
        apply(
            session,
            record,
            Message.AGREEMENT,
            Role.PROVIDER,
            actor=actor,
            detail={"agreement": agreement_id, "agreementDigest": digest},
        )
        record.agreement_id = agreement_id
        record.review_pending = False
        repository.add_agreement(
            session,
            AgreementRecord(
                id=agreement_id,
                negotiation_id=record.id,
                role=Role.PROVIDER.value,
                provider_did=self.env.own_did,
                consumer_did=record.counterparty_did,
                target=agreement["target"],
                policy=agreement,
                digest=digest,
                provider_signature=signature,
                consumer_signature=None,
                signed_at=now,
                finalized_at=None,
            ),
        )
        queue(
            session,
            self.env,
            record,
            Message.AGREEMENT,
            self._consumer_url(record, "agreement"),
            messages.contract_agreement(
                provider_pid=record.provider_pid or "",
                consumer_pid=record.consumer_pid or "",
                agreement=agreement,
            ),
            token_claims={"agreement_signature": signature},
        )

    def _reviewable(self, session: Session, negotiation_id: str) -> NegotiationRecord:
        record = repository.get(session, negotiation_id)
        if record is None or record.role != Role.PROVIDER.value:
            raise bad_request(f"no provider negotiation {negotiation_id}")
        if record.state != State.REQUESTED.value:
            raise bad_request(
                f"negotiation {negotiation_id} is {record.state}; only REQUESTED ones can be decided"
            )
        return record

    @staticmethod
    def _check_pids(record: NegotiationRecord, body: Mapping[str, Any]) -> None:
        if body.get("providerPid") not in (None, record.provider_pid):
            raise bad_request("providerPid in the message is not the one in the path", **pids(record))
        if body.get("consumerPid") not in (None, record.consumer_pid):
            raise bad_request("consumerPid does not match this negotiation", **pids(record))

    @staticmethod
    def _consumer_url(record: NegotiationRecord, leaf: str) -> str:
        return f"{record.counterparty_address}/negotiations/{record.consumer_pid}/{leaf}"

    @staticmethod
    def _state_body(record: NegotiationRecord) -> dict[str, Any]:
        return messages.negotiation_state(
            provider_pid=record.provider_pid, consumer_pid=record.consumer_pid, state=record.state
        )
