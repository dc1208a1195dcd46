"""The provider side of transfers: requests under agreements, the data address, the owner's control."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.negotiation.agreements import declared_purposes
from allmende.negotiation.records import AgreementRecord
from allmende.negotiation.states import Role
from allmende.policy.errors import PolicyError
from allmende.policy.evaluate import EvaluationContext, evaluate
from allmende.policy.jsonld import policy_from_json
from allmende.policy.vocabulary import short_term
from allmende.transfer import messages
from allmende.transfer.access import AccessDenied, AccessGrant
from allmende.transfer.datasets import DatasetLookup, ServedData
from allmende.transfer.process import (
    TransferEnv,
    end,
    move,
    open_transfer,
    problem,
    send,
    state_body,
)
from allmende.transfer.records import TransferRecord
from allmende.transfer.side import TransferSide
from allmende.transfer.states import TERMINAL, TransferMessage, TransferState

TokenIssuer = Callable[[TransferRecord], str]
"""Signs a data access token for a transfer (the node's key; see transfer.access)."""


@dataclass(frozen=True)
class Authorized:
    """A data request that may be served: the transfer and what its agreement's target serves."""

    transfer: TransferRecord
    data: ServedData


class ProviderTransfers(TransferSide):
    """Handles the consumer's transfer messages, the owner's decisions and data-plane access checks."""

    role = Role.PROVIDER

    def __init__(self, env: TransferEnv, issue_token: TokenIssuer, datasets: DatasetLookup) -> None:
        super().__init__(env)
        self.issue_token = issue_token
        self.datasets = datasets

    # --- incoming messages -------------------------------------------------------------------------

    def receive_request(
        self,
        session: Session,
        caller: str,
        body: Mapping[str, Any],
        digest: str,
        communities: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], bool]:
        """TransferRequestMessage: check the agreement and the policy, then start at once.

        ``communities``: the memberships the caller's presented credentials prove (``memberOf``).

        Pull: the start message carries the data address. Push: the consumer's dataAddress is kept,
        and the data is sent there once the start message is delivered.
        """
        consumer_pid = str(body["consumerPid"])
        existing = session.execute(
            select(TransferRecord).where(
                TransferRecord.role == Role.PROVIDER.value,
                TransferRecord.consumer_pid == consumer_pid,
                TransferRecord.counterparty_did == caller,
            )
        ).scalar_one_or_none()
        if existing is not None:
            return state_body(existing), False
        callback = body.get("callbackAddress")
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            raise problem(400, "callbackAddress must be an http(s) URL", consumer_pid=consumer_pid)
        data_format = body.get("format")
        if data_format not in messages.FORMATS:
            raise problem(
                400,
                f"format {data_format!r} is not supported; use {' or '.join(messages.FORMATS)}",
                consumer_pid=consumer_pid,
            )
        push_to = body.get("dataAddress") if data_format == messages.PUSH_FORMAT else None
        if data_format == messages.PUSH_FORMAT:
            endpoint, _ = messages.read_data_address(push_to if isinstance(push_to, dict) else {})
            if not endpoint.startswith(("http://", "https://")):
                raise problem(
                    400,
                    "a push transfer needs a dataAddress with an http(s) endpoint",
                    consumer_pid=consumer_pid,
                )
        agreement = self._agreement(session, str(body["agreementId"]), caller, consumer_pid)
        uses = self._uses(session, agreement.id)
        refusal = self.policy_refusal(agreement, utcnow(), uses, communities)
        if refusal:
            raise problem(400, refusal, consumer_pid=consumer_pid)
        record = open_transfer(
            session,
            role=Role.PROVIDER,
            counterparty_did=caller,
            counterparty_address=callback,
            agreement_id=agreement.id,
            format=str(data_format),
            counterparty_pid=consumer_pid,
            actor=caller,
            digest=digest,
        )
        record.use_number = uses
        record.data_address = push_to if isinstance(push_to, dict) else None
        self._start(session, record, actor=self.env.own_did)
        return state_body(record), True

    def receive_start(
        self, session: Session, caller: str, pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """The consumer resumes a suspended transfer."""
        record = self.own(session, caller, pid, body)
        move(session, record, TransferMessage.START, Role.CONSUMER, actor=caller, digest=digest)

    # --- the owner's control -------------------------------------------------------------------------

    def resume(self, session: Session, record: TransferRecord, actor: str) -> None:
        self._start(session, record, actor=actor)

    def terminate_agreement(self, session: Session, agreement_id: str, reason: str, actor: str) -> int:
        """End an agreement we granted: its live transfers are terminated, its tokens stop working."""
        agreement = session.get(AgreementRecord, agreement_id)
        if agreement is None or agreement.role != Role.PROVIDER.value:
            raise problem(404, f"no agreement {agreement_id} granted by this node")
        if agreement.terminated_at is not None:
            raise problem(409, f"agreement {agreement_id} was already terminated")
        agreement.terminated_at = utcnow()
        agreement.termination_reason = reason
        audit.append(
            session,
            actor=actor,
            event="agreement.terminated",
            subject=agreement_id,
            detail={"reason": reason},
        )
        live = (
            session.execute(
                select(TransferRecord).where(
                    TransferRecord.agreement_id == agreement_id,
                    TransferRecord.role == Role.PROVIDER.value,
                    TransferRecord.state.not_in([s.value for s in TERMINAL]),
                )
            )
            .scalars()
            .all()
        )
        for record in live:
            end(session, self.env, record, Role.PROVIDER, f"the agreement was terminated: {reason}", actor)
        return len(live)

    # --- the data plane's check ------------------------------------------------------------------------

    def authorize(self, session: Session, grant: AccessGrant, now: datetime) -> Authorized:
        """May the holder of ``grant`` pull the data now? AccessDenied with the reason otherwise."""
        record = session.execute(
            select(TransferRecord).where(
                TransferRecord.role == Role.PROVIDER.value, TransferRecord.provider_pid == grant.provider_pid
            )
        ).scalar_one_or_none()
        if (
            record is None
            or record.agreement_id != grant.agreement_id
            or record.counterparty_did != grant.consumer_did
        ):
            raise AccessDenied(404, "no such transfer")
        return self.check_access(session, record, now)

    def check_access(self, session: Session, record: TransferRecord, now: datetime) -> Authorized:
        """May the data of ``record`` flow now (transfer started, agreement alive, policy allows)?"""
        if record.state != TransferState.STARTED.value:
            raise AccessDenied(403, f"the transfer is {record.state}")
        agreement = session.get(AgreementRecord, record.agreement_id)
        if agreement is None or agreement.role != Role.PROVIDER.value:
            raise AccessDenied(403, "the agreement is unknown")
        if agreement.terminated_at is not None:
            raise AccessDenied(403, f"the agreement was terminated: {agreement.termination_reason}")
        refusal = self.policy_refusal(agreement, now, record.use_number or 0)
        if refusal:
            raise AccessDenied(403, refusal)
        data = self.datasets.served(session, agreement.target)
        if data is None:
            raise AccessDenied(410, "the data is no longer offered")
        return Authorized(record, data)

    @staticmethod
    def policy_refusal(
        agreement: AgreementRecord, now: datetime, uses: int, communities: frozenset[str] | None = None
    ) -> str | None:
        """Why the agreement's usage policy does not allow a use now (None: it does).

        ``communities`` None (the data plane, whose access tokens carry no credentials): membership was
        checked when the transfer was requested, so ``memberOf`` constraints count as met.
        """
        if communities is None:
            communities = named_communities(agreement.policy)
        purposes = declared_purposes(agreement.policy)
        try:
            decision = evaluate(
                policy_from_json(agreement.policy),
                EvaluationContext(
                    now=now,
                    assignee=agreement.consumer_did,
                    agreement_start=agreement.signed_at,
                    use_count=uses,
                    purpose=next(iter(purposes)) if len(purposes) == 1 else None,
                    target=agreement.target,
                    party_collections=communities,
                ),
            )
        except PolicyError as exc:
            return f"the agreement's policy cannot be evaluated: {exc}"
        if decision.allowed:
            return None
        return "the usage policy does not allow this use now: " + "; ".join(decision.reasons)

    # --- internals ---------------------------------------------------------------------------------------

    def _start(self, session: Session, record: TransferRecord, *, actor: str) -> None:
        move(session, record, TransferMessage.START, Role.PROVIDER, actor=actor)
        address = (
            None
            if record.format == messages.PUSH_FORMAT
            else messages.data_address(f"{self.env.base_url}/data/{record.id}", self.issue_token(record))
        )
        send(
            session,
            self.env,
            record,
            TransferMessage.START,
            "start",
            messages.transfer_start(
                provider_pid=record.id, consumer_pid=record.consumer_pid or "", address=address
            ),
        )

    def _agreement(
        self, session: Session, agreement_id: str, caller: str, consumer_pid: str
    ) -> AgreementRecord:
        agreement = session.get(AgreementRecord, agreement_id)
        if agreement is None or agreement.role != Role.PROVIDER.value or agreement.consumer_did != caller:
            raise problem(400, f"no agreement {agreement_id} with you", consumer_pid=consumer_pid)
        if agreement.finalized_at is None:
            raise problem(400, f"agreement {agreement_id} is not finalized", consumer_pid=consumer_pid)
        if agreement.terminated_at is not None:
            raise problem(
                400,
                f"agreement {agreement_id} was terminated: {agreement.termination_reason}",
                consumer_pid=consumer_pid,
            )
        return agreement

    @staticmethod
    def _uses(session: Session, agreement_id: str) -> int:
        count = session.execute(
            select(func.count())
            .select_from(TransferRecord)
            .where(
                TransferRecord.agreement_id == agreement_id,
                TransferRecord.role == Role.PROVIDER.value,
                TransferRecord.use_number.is_not(None),
            )
        ).scalar()
        return int(count or 0)


def named_communities(policy: object) -> frozenset[str]:
    """The communities that the ``memberOf`` constraints of a policy (ODRL JSON) name."""
    found: set[str] = set()
    if isinstance(policy, dict):
        if short_term(str(policy.get("leftOperand", ""))) == "memberOf":
            right = policy.get("rightOperand")
            for value in right if isinstance(right, list) else [right]:
                if isinstance(value, str):
                    found.add(value)
        for child in policy.values():
            found |= named_communities(child)
    elif isinstance(policy, list):
        for item in policy:
            found |= named_communities(item)
    return frozenset(found)
