"""The consumer side of contract negotiation: asking for a contract and the provider's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from allmende.clock import utcnow
from allmende.negotiation import messages, repository
from allmende.negotiation.agreements import agreement_digest, agreement_matches_request
from allmende.negotiation.process import (
    NegotiationEnv,
    apply,
    callback_of,
    open_process,
    pids,
    queue,
    queue_termination,
)
from allmende.negotiation.provider import Signature
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Message, Role, State
from allmende.policy.errors import PolicyError
from allmende.policy.jsonld import policy_from_json
from allmende.protocol.problems import bad_request


class ConsumerNegotiations:
    """Starts negotiations and handles the provider's messages at our callback address."""

    def __init__(self, env: NegotiationEnv) -> None:
        self.env = env

    # --- started by our owner --------------------------------------------------------------------

    def start(
        self,
        session: Session,
        *,
        provider_did: str,
        provider_url: str,
        offer: Mapping[str, Any],
        dataset_id: str,
        actor: str,
    ) -> NegotiationRecord:
        """Ask ``provider_did`` at ``provider_url`` (its DSP base) for a contract on ``offer``."""
        if provider_did == self.env.own_did:
            raise bad_request("a node cannot negotiate with itself")
        requested = {**offer, "@type": "Offer", "target": dataset_id}
        try:
            policy_from_json(requested)
        except PolicyError as exc:
            raise bad_request(f"invalid offer: {exc}") from None
        record = open_process(
            session,
            role=Role.CONSUMER,
            state=State.REQUESTED,
            counterparty_did=provider_did,
            counterparty_address=provider_url,
            offer=requested,
            offer_id=str(offer.get("@id")),
            dataset_id=dataset_id,
            counterparty_pid=None,
            actor=actor,
        )
        queue(
            session,
            self.env,
            record,
            Message.REQUEST,
            f"{record.counterparty_address}/negotiations/request",
            messages.contract_request(
                consumer_pid=record.id, offer=requested, callback=self.env.callback_url
            ),
        )
        return record

    def accept(self, session: Session, negotiation_id: str, actor: str) -> NegotiationRecord:
        """Accept the provider's offer on the table (OFFERED → ACCEPTED)."""
        record = self._own(session, negotiation_id)
        apply(session, record, Message.ACCEPTED, Role.CONSUMER, actor=actor)
        record.review_pending = False
        queue(
            session,
            self.env,
            record,
            Message.ACCEPTED,
            self._provider_url(record, "events"),
            messages.negotiation_event(
                provider_pid=record.provider_pid or "", consumer_pid=record.id, event_type="ACCEPTED"
            ),
        )
        return record

    def counter_offer(
        self, session: Session, negotiation_id: str, offer: Mapping[str, Any], actor: str
    ) -> NegotiationRecord:
        """Answer the provider's offer with other terms (OFFERED → REQUESTED)."""
        record = self._own(session, negotiation_id)
        requested = {**offer, "@type": "Offer", "target": record.dataset_id}
        requested.setdefault("@id", record.offer_id)
        try:
            policy_from_json(requested)
        except PolicyError as exc:
            raise bad_request(f"invalid offer: {exc}", **pids(record)) from None
        apply(session, record, Message.REQUEST, Role.CONSUMER, actor=actor)
        record.offer = requested
        record.review_pending = False
        queue(
            session,
            self.env,
            record,
            Message.REQUEST,
            self._provider_url(record, "request"),
            messages.contract_request(
                consumer_pid=record.id, provider_pid=record.provider_pid, offer=requested
            ),
        )
        return record

    def terminate(self, session: Session, negotiation_id: str, reason: str, actor: str) -> NegotiationRecord:
        """End the negotiation from our side."""
        record = self._own(session, negotiation_id)
        apply(session, record, Message.TERMINATION, Role.CONSUMER, actor=actor, detail={"reason": reason})
        queue_termination(session, self.env, record, self._provider_url(record, "termination"), reason)
        return record

    # --- incoming messages ------------------------------------------------------------------------

    def receive_initial_offer(
        self, session: Session, caller: str, body: Mapping[str, Any], digest: str
    ) -> tuple[dict[str, Any], bool]:
        """A provider-initiated ContractOfferMessage: a new process awaiting our owner's decision."""
        provider_pid = str(body["providerPid"])
        existing = repository.by_counterparty_pid(session, Role.CONSUMER, provider_pid, caller)
        if existing is not None:
            return self._state_body(existing), False
        callback = callback_of(body, provider_pid=provider_pid)
        offer = dict(body["offer"])
        self._check_offer(offer, provider_pid=provider_pid)
        record = open_process(
            session,
            role=Role.CONSUMER,
            state=State.OFFERED,
            counterparty_did=caller,
            counterparty_address=callback,
            offer=offer,
            offer_id=str(offer.get("@id")),
            dataset_id=str(offer["target"]) if offer.get("target") else None,
            counterparty_pid=provider_pid,
            actor=caller,
            digest=digest,
            review_note="the provider offers a contract",
        )
        return self._state_body(record), True

    def receive_offer(
        self, session: Session, caller: str, consumer_pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """A counter-offer from the provider (REQUESTED → OFFERED); our owner decides."""
        record = repository.by_own_pid(session, Role.CONSUMER, consumer_pid, caller)
        self._adopt_provider_pid(record, body)
        offer = dict(body["offer"])
        self._check_offer(offer, **pids(record))
        apply(session, record, Message.OFFER, Role.PROVIDER, actor=caller, digest=digest)
        record.offer = {**offer, "target": offer.get("target", record.dataset_id)}
        record.review_pending = True
        record.review_note = "the provider offers other terms"

    def receive_agreement(
        self,
        session: Session,
        caller: str,
        consumer_pid: str,
        body: Mapping[str, Any],
        digest: str,
        signature: Signature | None,
    ) -> None:
        """ContractAgreementMessage: check it is what we asked for, store it, verify it."""
        record = repository.by_own_pid(session, Role.CONSUMER, consumer_pid, caller)
        self._adopt_provider_pid(record, body)
        agreement = dict(body["agreement"])
        problems = agreement_matches_request(
            agreement, record.offer or {}, consumer_did=self.env.own_did, provider_did=caller
        )
        computed = agreement_digest(agreement)
        if signature is None:
            if self.env.require_agreement_signatures:
                problems.append("the agreement is not signed by the provider")
        elif signature.agreement_id != agreement.get("@id") or signature.digest != computed:
            problems.append("the provider's signature does not cover this agreement")
        if problems:
            raise bad_request("; ".join(problems), **pids(record))
        if record.state == State.AGREED.value and record.agreement_id == agreement.get("@id"):
            return  # the same agreement delivered twice
        apply(
            session,
            record,
            Message.AGREEMENT,
            Role.PROVIDER,
            actor=caller,
            digest=digest,
            detail={"agreement": agreement.get("@id"), "agreementDigest": computed},
        )
        now = utcnow()
        own_signature = self.env.sign_agreement(caller, str(agreement["@id"]), computed)
        repository.add_agreement(
            session,
            AgreementRecord(
                id=str(agreement["@id"]),
                negotiation_id=record.id,
                role=Role.CONSUMER.value,
                provider_did=caller,
                consumer_did=self.env.own_did,
                target=str(agreement.get("target")),
                policy=agreement,
                digest=computed,
                provider_signature=signature.token if signature else None,
                consumer_signature=own_signature,
                signed_at=now,
                finalized_at=None,
            ),
        )
        record.agreement_id = str(agreement["@id"])
        record.review_pending = False
        apply(
            session,
            record,
            Message.VERIFICATION,
            Role.CONSUMER,
            actor=self.env.own_did,
            detail={"agreement": record.agreement_id},
        )
        queue(
            session,
            self.env,
            record,
            Message.VERIFICATION,
            self._provider_url(record, "agreement/verification"),
            messages.agreement_verification(provider_pid=record.provider_pid or "", consumer_pid=record.id),
            token_claims={"agreement_signature": own_signature},
        )

    def receive_event(
        self, session: Session, caller: str, consumer_pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """ContractNegotiationEventMessage: only FINALIZED may come from a provider."""
        record = repository.by_own_pid(session, Role.CONSUMER, consumer_pid, caller)
        self._adopt_provider_pid(record, body)
        if body.get("eventType") != "FINALIZED":
            raise bad_request("a provider may only send the event FINALIZED", **pids(record))
        apply(session, record, Message.FINALIZED, Role.PROVIDER, actor=caller, digest=digest)
        agreement = repository.agreement_of(session, record)
        if agreement is not None:
            agreement.finalized_at = utcnow()

    def receive_termination(
        self, session: Session, caller: str, consumer_pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """ContractNegotiationTerminationMessage from the provider."""
        record = repository.by_own_pid(session, Role.CONSUMER, consumer_pid, caller)
        self._adopt_provider_pid(record, body)
        reasons = [str(r) for r in body.get("reason") or []]
        apply(
            session,
            record,
            Message.TERMINATION,
            Role.PROVIDER,
            actor=caller,
            digest=digest,
            detail={"reason": reasons},
        )
        record.termination_reason = "terminated by the provider: " + ("; ".join(reasons) or "no reason given")
        record.review_pending = False

    def state(self, session: Session, caller: str, consumer_pid: str) -> dict[str, Any]:
        """GET on our callback: the process as we see it."""
        return self._state_body(repository.by_own_pid(session, Role.CONSUMER, consumer_pid, caller))

    def request_delivered(self, session: Session, negotiation_id: str, answer: Any) -> None:
        """The provider answered our initial request: remember its providerPid (unless known already)."""
        if not isinstance(answer, Mapping):
            return
        provider_pid = answer.get("providerPid")
        if isinstance(provider_pid, str) and provider_pid:
            repository.learn_provider_pid(session, negotiation_id, provider_pid)

    # --- internals -------------------------------------------------------------------------------

    def _own(self, session: Session, negotiation_id: str) -> NegotiationRecord:
        record = repository.get(session, negotiation_id)
        if record is None or record.role != Role.CONSUMER.value:
            raise bad_request(f"no consumer negotiation {negotiation_id}")
        return record

    @staticmethod
    def _check_offer(offer: Mapping[str, Any], **ids: str | None) -> None:
        try:
            policy_from_json(offer)
        except PolicyError as exc:
            raise bad_request(f"invalid offer: {exc}", **ids) from None

    @staticmethod
    def _adopt_provider_pid(record: NegotiationRecord, body: Mapping[str, Any]) -> None:
        if body.get("consumerPid") not in (None, record.consumer_pid):
            raise bad_request("consumerPid in the message is not the one in the path", **pids(record))
        provider_pid = body.get("providerPid")
        if record.provider_pid is None and isinstance(provider_pid, str):
            record.provider_pid = provider_pid
        elif provider_pid not in (None, record.provider_pid):
            raise bad_request("providerPid does not match this negotiation", **pids(record))

    @staticmethod
    def _provider_url(record: NegotiationRecord, leaf: str) -> str:
        if not record.provider_pid:
            raise bad_request("the provider has not answered yet; try again shortly", **pids(record))
        return f"{record.counterparty_address}/negotiations/{record.provider_pid}/{leaf}"

    @staticmethod
    def _state_body(record: NegotiationRecord) -> dict[str, Any]:
        return messages.negotiation_state(
            provider_pid=record.provider_pid, consumer_pid=record.consumer_pid, state=record.state
        )
