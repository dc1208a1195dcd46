"""The consumer side of transfers: asking for the data under an agreement, and the provider's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.negotiation.states import Role
from allmende.transfer import messages
from allmende.transfer.process import (
    move,
    open_transfer,
    problem,
    send,
)
from allmende.transfer.records import TransferRecord
from allmende.transfer.side import TransferSide
from allmende.transfer.states import TransferMessage


class ConsumerTransfers(TransferSide):
    """Starts transfers under our agreements and handles the provider's messages at our callback."""

    role = Role.CONSUMER

    def start(
        self,
        session: Session,
        agreement_id: str,
        actor: str,
        *,
        data_format: str = messages.PULL_FORMAT,
        push_endpoint: str | None = None,
        push_token: str | None = None,
    ) -> TransferRecord:
        """Ask the provider of ``agreement_id`` for the data.

        Pull (default): the provider answers with a data address to pull from. Push: the provider sends
        the data to ``push_endpoint`` with ``push_token``; without an endpoint, to this node's own
        receiver (``/push/{transfer}``), which stores it in the data folder.
        """
        if data_format not in messages.FORMATS:
            raise problem(400, f"format must be one of {', '.join(messages.FORMATS)}")
        if push_endpoint is not None and data_format != messages.PUSH_FORMAT:
            raise problem(400, "a push endpoint is only for HttpData-PUSH")
        if push_endpoint is not None and not push_endpoint.startswith(("http://", "https://")):
            raise problem(400, "the push endpoint must be an http(s) URL")
        agreement = session.get(AgreementRecord, agreement_id)
        if agreement is None or agreement.role != Role.CONSUMER.value:
            raise problem(404, f"no agreement {agreement_id} obtained by this node")
        if agreement.finalized_at is None:
            raise problem(409, f"agreement {agreement_id} is not finalized yet")
        negotiation = session.get(NegotiationRecord, agreement.negotiation_id)
        if negotiation is None or not negotiation.counterparty_address:
            raise problem(409, f"the provider's address for agreement {agreement_id} is unknown")
        record = open_transfer(
            session,
            role=Role.CONSUMER,
            counterparty_did=agreement.provider_did,
            counterparty_address=negotiation.counterparty_address,
            agreement_id=agreement_id,
            format=data_format,
            counterparty_pid=None,
            actor=actor,
        )
        address = None
        if data_format == messages.PUSH_FORMAT:
            if push_endpoint is None:
                if self.env.issue_push_token is None:
                    raise problem(409, "this node cannot receive pushed data")
                push_endpoint, push_token = (
                    f"{self.env.base_url}/push/{record.id}",
                    self.env.issue_push_token(record),
                )
            address = (
                messages.data_address(push_endpoint, push_token)
                if push_token
                else {
                    "@type": "DataAddress",
                    "endpointType": messages.HTTP_ENDPOINT_TYPE,
                    "endpoint": push_endpoint,
                }
            )
            record.data_address = address
        self.env.postbox.send(
            session,
            process_id=record.id,
            audience_did=record.counterparty_did,
            kind=TransferMessage.REQUEST.value,
            url=f"{record.counterparty_address}/transfers/request",
            body=messages.transfer_request(
                consumer_pid=record.id,
                agreement_id=agreement_id,
                format=data_format,
                callback=self.env.callback_url,
                address=address,
            ),
        )
        return record

    def request_delivered(self, session: Session, transfer_id: str, answer: Any) -> None:
        """The provider answered our request: remember its providerPid."""
        record = session.get(TransferRecord, transfer_id)
        if record is None or record.provider_pid is not None or not isinstance(answer, Mapping):
            return
        provider_pid = answer.get("providerPid")
        if isinstance(provider_pid, str) and provider_pid:
            record.provider_pid = provider_pid

    # --- incoming messages -------------------------------------------------------------------------

    def receive_start(
        self, session: Session, caller: str, pid: str, body: Mapping[str, Any], digest: str
    ) -> None:
        """TransferStartMessage: the data can be pulled from the data address."""
        record = self.own(session, caller, pid, body)
        move(session, record, TransferMessage.START, Role.PROVIDER, actor=caller, digest=digest)
        address = body.get("dataAddress")
        if record.format == messages.PUSH_FORMAT:
            return  # the data will come to the address we gave
        if isinstance(address, dict):
            record.data_address = address
        elif record.data_address is None:
            raise problem(400, "a pull transfer needs a dataAddress in the TransferStartMessage", record)

    # --- our owner's control -------------------------------------------------------------------------

    def resume(self, session: Session, record: TransferRecord, actor: str) -> None:
        move(session, record, TransferMessage.START, Role.CONSUMER, actor=actor)
        send(
            session,
            self.env,
            record,
            TransferMessage.START,
            "start",
            messages.transfer_start(
                provider_pid=record.provider_pid or "", consumer_pid=record.id, address=None
            ),
        )
