"""Protocol errors raised by the services and answered with the DSP error bodies."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProtocolProblem(Exception):
    """An error answered to a peer: HTTP status, DSP error type, code and reasons.

    ``error_type`` is "ContractNegotiationError", "CatalogError" or "TransferError".
    Raising it from a service means: nothing was changed.
    """

    status: int
    reasons: list[str]
    error_type: str = "ContractNegotiationError"
    code: str | None = None
    provider_pid: str | None = None
    consumer_pid: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__("; ".join(self.reasons))

    def body(self) -> dict[str, object]:
        """The JSON error body as the DSP schemas define it."""
        body: dict[str, object] = {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": self.error_type,
            "code": self.code or str(self.status),
            "reason": self.reasons,
        }
        if self.error_type != "CatalogError":
            body["providerPid"] = self.provider_pid or ""
            body["consumerPid"] = self.consumer_pid or ""
        return body


def bad_request(
    reason: str, *, provider_pid: str | None = None, consumer_pid: str | None = None
) -> ProtocolProblem:
    """400: the message is invalid or not allowed in the current state."""
    return ProtocolProblem(400, [reason], provider_pid=provider_pid, consumer_pid=consumer_pid)


def not_found(
    reason: str, *, provider_pid: str | None = None, consumer_pid: str | None = None
) -> ProtocolProblem:
    """404: unknown process, or one the caller is not a party of."""
    return ProtocolProblem(404, [reason], provider_pid=provider_pid, consumer_pid=consumer_pid)
