"""Asking another node for a contract on one of its offers: find the offer, then start as consumer.

Shared by the management API (``POST /api/v1/negotiations``) and the web interface's one-click request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allmende.catalog.remote import RemoteCatalog, fetch_catalog
from allmende.negotiation.records import NegotiationRecord
from allmende.node import Node
from allmende.protocol.endpoint import in_transaction


class OfferNotFound(LookupError):
    """The node at the address does not offer this offer (to this node)."""

    def __init__(self, address: str, offer_id: str) -> None:
        super().__init__(f"{address} offers no {offer_id} to this node")
        self.address = address
        self.offer_id = offer_id


@dataclass(frozen=True)
class RemoteOffer:
    """An offer in another node's catalog, with its dataset and the catalog it was found in."""

    remote: RemoteCatalog
    dataset: dict[str, Any]
    offer: dict[str, Any]


async def find_remote_offer(node: Node, address: str, offer_id: str) -> RemoteOffer:
    """The offer ``offer_id`` of the node at ``address``, from the catalog cache if it holds it.

    A cached catalog may predate the offer, so a miss asks the node once more. Raises
    ``RemoteCatalogError`` when the node cannot be asked and ``OfferNotFound`` when it has no such offer.
    """
    remote = await fetch_catalog(node, address, use_cache=True)
    found = remote.find_offer(offer_id)
    if found is None:
        remote = await fetch_catalog(node, address)
        found = remote.find_offer(offer_id)
    if found is None:
        raise OfferNotFound(address, offer_id)
    dataset, offer = found
    return RemoteOffer(remote, dataset, offer)


async def start_negotiation(node: Node, address: str, offer_id: str, actor: str) -> NegotiationRecord:
    """Ask the node at ``address`` for a contract on ``offer_id``; the new consumer negotiation.

    Raises ``RemoteCatalogError``, ``OfferNotFound`` or ``ProtocolProblem`` (nothing is stored then).
    """
    found = await find_remote_offer(node, address, offer_id)
    return await in_transaction(
        node,
        lambda session: node.consumer.start(
            session,
            provider_did=found.remote.provider_did,
            provider_url=found.remote.dsp_url,
            offer=found.offer,
            dataset_id=str(found.dataset["@id"]),
            actor=actor,
        ),
    )
