"""Builders of the DSP 2025-1 negotiation messages (pure: dicts in, dicts out)."""

from __future__ import annotations

from typing import Any

DSP_CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]


def _message(kind: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"@context": DSP_CONTEXT, "@type": kind}
    body.update({key: value for key, value in fields.items() if value is not None})
    return body


def contract_request(
    *, consumer_pid: str, offer: dict[str, Any], provider_pid: str | None = None, callback: str | None = None
) -> dict[str, Any]:
    """ContractRequestMessage: initial (with callbackAddress) or a counter-offer (with providerPid)."""
    return _message(
        "ContractRequestMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        offer=offer,
        callbackAddress=callback,
    )


def contract_offer(
    *, provider_pid: str, offer: dict[str, Any], consumer_pid: str | None = None, callback: str | None = None
) -> dict[str, Any]:
    """ContractOfferMessage: initial (with callbackAddress) or a counter-offer (with consumerPid)."""
    return _message(
        "ContractOfferMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        offer=offer,
        callbackAddress=callback,
    )


def contract_agreement(*, provider_pid: str, consumer_pid: str, agreement: dict[str, Any]) -> dict[str, Any]:
    """ContractAgreementMessage."""
    return _message(
        "ContractAgreementMessage", providerPid=provider_pid, consumerPid=consumer_pid, agreement=agreement
    )


def agreement_verification(*, provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    """ContractAgreementVerificationMessage."""
    return _message(
        "ContractAgreementVerificationMessage", providerPid=provider_pid, consumerPid=consumer_pid
    )


def negotiation_event(*, provider_pid: str, consumer_pid: str, event_type: str) -> dict[str, Any]:
    """ContractNegotiationEventMessage (ACCEPTED or FINALIZED)."""
    return _message(
        "ContractNegotiationEventMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        eventType=event_type,
    )


def termination(
    *, provider_pid: str, consumer_pid: str, reason: str, code: str | None = None
) -> dict[str, Any]:
    """ContractNegotiationTerminationMessage with a human-readable reason."""
    return _message(
        "ContractNegotiationTerminationMessage",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=code,
        reason=[reason],
    )


def negotiation_state(*, provider_pid: str | None, consumer_pid: str | None, state: str) -> dict[str, Any]:
    """ContractNegotiation: the state of a process as answered to GET and to initial messages."""
    return _message("ContractNegotiation", providerPid=provider_pid, consumerPid=consumer_pid, state=state)


def negotiation_error(
    *, provider_pid: str | None, consumer_pid: str | None, code: str, reasons: list[str]
) -> dict[str, Any]:
    """ContractNegotiationError."""
    return _message(
        "ContractNegotiationError",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=code,
        reason=reasons,
    )
