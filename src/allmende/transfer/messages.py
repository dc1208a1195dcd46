"""Builders of the DSP 2025-1 transfer messages and data addresses (pure)."""

from __future__ import annotations

from typing import Any

DSP_CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
HTTP_ENDPOINT_TYPE = "https://w3id.org/idsa/v4.1/HTTP"
PULL_FORMAT = "HttpData-PULL"
PUSH_FORMAT = "HttpData-PUSH"
FORMATS = (PULL_FORMAT, PUSH_FORMAT)


def _message(kind: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"@context": DSP_CONTEXT, "@type": kind}
    body.update({key: value for key, value in fields.items() if value is not None})
    return body


def transfer_request(
    *, consumer_pid: str, agreement_id: str, format: str, callback: str, address: dict[str, Any] | None = None
) -> dict[str, Any]:
    """TransferRequestMessage (push: with the dataAddress the provider sends the data to)."""
    return _message(
        "TransferRequestMessage",
        consumerPid=consumer_pid,
        agreementId=agreement_id,
        format=format,
        dataAddress=address,
        callbackAddress=callback,
    )


def data_address(endpoint: str, token: str) -> dict[str, Any]:
    """A DataAddress for HTTP pull: the endpoint and a bearer token."""
    return {
        "@type": "DataAddress",
        "endpointType": HTTP_ENDPOINT_TYPE,
        "endpoint": endpoint,
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": token},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
        ],
    }


def read_data_address(address: dict[str, Any]) -> tuple[str, str | None]:
    """(endpoint, bearer token or None) of a DataAddress."""
    token = None
    for prop in address.get("endpointProperties", []):
        if isinstance(prop, dict) and prop.get("name") == "authorization":
            token = str(prop.get("value"))
    return str(address.get("endpoint", "")), token


def transfer_start(*, provider_pid: str, consumer_pid: str, address: dict[str, Any] | None) -> dict[str, Any]:
    """TransferStartMessage (from the provider with a dataAddress for pull; from the consumer without)."""
    return _message(
        "TransferStartMessage", providerPid=provider_pid, consumerPid=consumer_pid, dataAddress=address
    )


def transfer_suspension(*, provider_pid: str, consumer_pid: str, reason: str) -> dict[str, Any]:
    """TransferSuspensionMessage."""
    return _message(
        "TransferSuspensionMessage", providerPid=provider_pid, consumerPid=consumer_pid, reason=[reason]
    )


def transfer_completion(*, provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    """TransferCompletionMessage."""
    return _message("TransferCompletionMessage", providerPid=provider_pid, consumerPid=consumer_pid)


def transfer_termination(*, provider_pid: str, consumer_pid: str, reason: str) -> dict[str, Any]:
    """TransferTerminationMessage."""
    return _message(
        "TransferTerminationMessage", providerPid=provider_pid, consumerPid=consumer_pid, reason=[reason]
    )


def transfer_process(*, provider_pid: str | None, consumer_pid: str | None, state: str) -> dict[str, Any]:
    """TransferProcess: the state answered to GET and to the request."""
    return _message("TransferProcess", providerPid=provider_pid, consumerPid=consumer_pid, state=state)
