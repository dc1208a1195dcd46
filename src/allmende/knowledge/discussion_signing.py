"""A post signed by its author's node: a compact JWS over the canonical post (pure).

Header: ``alg: EdDSA``, ``typ: discussion-post+jwt``, ``kid: <author DID>#<key id>`` (a verification
method of the author's DID document). Payload: the canonical JSON (``allmende.canonical``) of
``{iss, aud, name, node, topic, parent, body, created, nonce}``: the author node's DID, the hosting
node's DID (so a post cannot be replayed to another host), the author's display name and node name,
the topic, the post it replies to (or null), the text, the time it was written and a unique nonce.
The host stores the JWS with the post, so anyone can verify the post again with the author's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.canonical import canonical_json
from allmende.clock import isoformat, parse_datetime
from allmende.identity.errors import TokenError
from allmende.identity.jws import SIGNING_ALGORITHM, Signer, decode_jwt, verify_signature
from allmende.identity.key_encoding import b64url_encode
from allmende.knowledge.discussion_rules import (
    MAX_BODY,
    MAX_NAME,
    DiscussionError,
    clean_id,
    clean_line,
    clean_text,
)

POST_TYPE: Final = "discussion-post+jwt"
MAX_SIGNED_POST: Final = 100_000


@dataclass(frozen=True)
class SignedPost:
    """The content of a post as its author's node signs it."""

    author_did: str
    host_did: str
    author_name: str
    author_node: str
    topic_id: str
    parent_id: str | None
    body: str
    created: datetime
    nonce: str

    def claims(self) -> dict[str, Any]:
        """The JWS payload."""
        return {
            "iss": self.author_did,
            "aud": self.host_did,
            "name": self.author_name,
            "node": self.author_node,
            "topic": self.topic_id,
            "parent": self.parent_id,
            "body": self.body,
            "created": isoformat(self.created),
            "nonce": self.nonce,
        }


def sign_post(post: SignedPost, signer: Signer, *, key_id: str) -> str:
    """The compact JWS of ``post``, signed with the author node's key ``key_id``."""
    header = {"alg": SIGNING_ALGORITHM, "kid": f"{post.author_did}#{key_id}", "typ": POST_TYPE}
    signing_input = f"{b64url_encode(canonical_json(header))}.{b64url_encode(canonical_json(post.claims()))}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


@dataclass(frozen=True)
class ReadPost:
    """A signed post read but not yet verified: its content and the key (``kid``) to verify it with."""

    post: SignedPost
    kid: str
    token: str


def read_post(token: object) -> ReadPost:
    """Decode a signed post and check its form (not its signature); raises DiscussionError (400)."""
    if not isinstance(token, str):
        raise DiscussionError(400, "the post must be a signed post (compact JWS)")
    try:
        decoded = decode_jwt(token, max_length=MAX_SIGNED_POST)
    except TokenError as error:
        raise DiscussionError(400, f"the signed post is malformed: {error.reason}") from None
    if decoded.header.get("typ") != POST_TYPE:
        raise DiscussionError(400, f"the signed post's typ must be {POST_TYPE}")
    kid = decoded.header.get("kid")
    post = post_from_claims(decoded.claims)
    if not isinstance(kid, str) or kid.split("#", 1)[0] != post.author_did or "#" not in kid:
        raise DiscussionError(400, "the post's kid must name a key of its author (iss)")
    return ReadPost(post, kid, token)


def verify_post(read: ReadPost, public_key: Ed25519PublicKey) -> SignedPost:
    """Check the signature of a read post with the author's key; raises DiscussionError (400)."""
    try:
        verify_signature(decode_jwt(read.token, max_length=MAX_SIGNED_POST), public_key)
    except TokenError as error:
        raise DiscussionError(400, f"the post's signature does not verify: {error.reason}") from None
    return read.post


def post_from_claims(claims: Mapping[str, Any]) -> SignedPost:
    """The post in a JWS payload, every field checked; raises DiscussionError (400)."""
    for name in ("iss", "aud"):
        if not isinstance(claims.get(name), str) or not str(claims[name]).startswith("did:"):
            raise DiscussionError(400, f"the post's {name} must be a DID")
    parent = claims.get("parent")
    created = claims.get("created")
    if not isinstance(created, str):
        raise DiscussionError(400, "the post has no creation time")
    try:
        moment = parse_datetime(created)
    except ValueError:
        raise DiscussionError(400, "the post's creation time is not an RFC 3339 timestamp") from None
    node = claims.get("node", "")
    return SignedPost(
        author_did=str(claims["iss"]),
        host_did=str(claims["aud"]),
        author_name=clean_line(claims.get("name"), "name", maximum=MAX_NAME),
        author_node=clean_line(node, "node", maximum=MAX_NAME) if node else "",
        topic_id=clean_id(claims.get("topic"), "topic"),
        parent_id=None if parent is None else clean_id(parent, "parent"),
        body=_exact_body(claims.get("body")),
        created=moment,
        nonce=clean_id(claims.get("nonce"), "nonce"),
    )


def _exact_body(value: object) -> str:
    body = clean_text(value, "body", maximum=MAX_BODY)
    if body != value:  # the signed text is stored as it is, so it must already be in its clean form
        raise DiscussionError(400, "the post's body must be stripped, with \\n line ends")
    return body
