"""Membership credentials (VC-JWT) and the Bitstring Status List as pure functions: every refusal reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allmende.identity.jws import decode_jwt
from allmende.identity.key_encoding import b64url_decode, b64url_encode
from allmende.identity.keys import NodeKey
from allmende.network.credentials import (
    CredentialError,
    check_status,
    issue_membership,
    read_membership,
    verify_membership,
)
from allmende.network.member_list import sign_member_list, verify_member_list
from allmende.network.status_list import (
    MIN_BITS,
    StatusList,
    StatusListError,
    read_status_list_credential,
    status_list_credential,
)

DIRECTORY = "did:web:verband.example"
OTHER = "did:web:other.example"
MEMBER = "did:web:member.example"
STATUS_URL = "https://verband.example/directory/status-list"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = NodeKey("key-1", Ed25519PrivateKey.generate())
OTHER_KEY = NodeKey("key-1", Ed25519PrivateKey.generate())


def credential(
    *, issuer: str = DIRECTORY, key: NodeKey = KEY, days: int = 365, start: datetime = NOW, index: int = 7
) -> str:
    return issue_membership(
        key,
        issuer=issuer,
        key_id=key.key_id,
        holder=MEMBER,
        community_name="Verband Sachsen",
        valid_from=start,
        valid_until=start + timedelta(days=days),
        status_url=STATUS_URL,
        status_index=index,
    )


def reason(token: str, *, holder: str = MEMBER, now: datetime = NOW, key: NodeKey = KEY) -> str:
    with pytest.raises(CredentialError) as caught:
        verify_membership(read_membership(token), key.public_key, holder=holder, now=now)
    return caught.value.code


def test_a_fresh_credential_verifies_and_has_the_agreed_shape() -> None:
    token = credential()
    decoded = decode_jwt(token)
    assert decoded.header["typ"] == "vc+jwt"
    assert decoded.header["kid"] == f"{DIRECTORY}#key-1"
    claims = decoded.claims
    assert claims["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert claims["type"] == ["VerifiableCredential", "MembershipCredential"]
    assert claims["credentialSubject"]["memberOf"] == {"id": DIRECTORY, "name": "Verband Sachsen"}
    assert claims["credentialStatus"]["statusListIndex"] == "7"
    assert (claims["iss"], claims["sub"], claims["jti"]) == (DIRECTORY, MEMBER, claims["id"])
    membership = verify_membership(read_membership(token), KEY.public_key, holder=MEMBER, now=NOW)
    assert membership.community == DIRECTORY
    assert membership.name == "Verband Sachsen"
    assert membership.status_index == 7
    assert membership.status_url == STATUS_URL
    assert membership.valid_until == NOW + timedelta(days=365)


def test_expired_and_not_yet_valid_credentials_are_refused() -> None:
    assert reason(credential(days=1), now=NOW + timedelta(days=2)) == "expired"
    assert reason(credential(start=NOW + timedelta(days=1))) == "not_yet_valid"


def test_a_credential_of_another_holder_is_refused() -> None:
    assert reason(credential(), holder="did:web:thief.example") == "not_holder"


def test_a_tampered_byte_breaks_the_signature() -> None:
    header, payload, signature = credential().split(".")
    text = b64url_decode(payload).decode().replace("Verband Sachsen", "Verband Bayern")
    assert reason(f"{header}.{b64url_encode(text.encode())}.{signature}") == "tampered"
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert reason(f"{header}.{payload}.{flipped}") == "tampered"
    assert reason(credential(), key=OTHER_KEY) == "tampered"


def test_a_credential_for_a_community_signed_by_another_directory_names_the_wrong_issuer() -> None:
    forged = issue_membership(
        OTHER_KEY,
        issuer=OTHER,
        key_id="key-1",
        holder=MEMBER,
        community_name="Verband Sachsen",
        valid_from=NOW,
        valid_until=NOW + timedelta(days=1),
        status_url=STATUS_URL,
        status_index=1,
    )
    header, payload, signature = forged.split(".")
    text = (
        b64url_decode(payload)
        .decode()
        .replace(f'"memberOf":{{"id":"{OTHER}"', f'"memberOf":{{"id":"{DIRECTORY}"')
    )
    with pytest.raises(CredentialError) as caught:
        read_membership(f"{header}.{b64url_encode(text.encode())}.{signature}")
    assert caught.value.code == "wrong_issuer"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", 42, None])
def test_junk_is_malformed(token: object) -> None:
    with pytest.raises(CredentialError) as caught:
        read_membership(token)
    assert caught.value.code == "malformed"


def test_revocation_is_read_from_the_status_list() -> None:
    membership = verify_membership(
        read_membership(credential(index=9)), KEY.public_key, holder=MEMBER, now=NOW
    )
    status = StatusList()
    check_status(membership, status)
    status.set(9)
    with pytest.raises(CredentialError) as caught:
        check_status(membership, status)
    assert caught.value.code == "revoked"
    assert caught.value.text == f"membership credential revoked by {DIRECTORY}"


def test_status_list_round_trip_has_the_minimum_size_and_msb_first_order() -> None:
    status = StatusList.with_set([0, 5, 131_071])
    assert status.size == MIN_BITS
    encoded = status.encode()
    assert encoded.startswith("u")
    decoded = StatusList.decode(encoded)
    assert [i for i in (0, 1, 5, 6, 131_071) if decoded.get(i)] == [0, 5, 131_071]
    assert decoded.get(0) and bytes(decoded._bytes[:1]) == b"\x84"
    larger = StatusList.with_set([200_000])
    assert larger.size >= 200_001 and StatusList.decode(larger.encode()).get(200_000)
    with pytest.raises(StatusListError):
        status.get(MIN_BITS)
    with pytest.raises(StatusListError):
        StatusList.decode("u" + b64url_encode(b"not gzip"))


def test_status_list_credential_reads_back_only_for_its_issuer() -> None:
    status = StatusList.with_set([3])
    vc = status_list_credential(DIRECTORY, STATUS_URL, status, valid_from=NOW, valid_until=NOW + timedelta(1))
    assert vc["credentialSubject"]["statusPurpose"] == "revocation"
    assert read_status_list_credential(vc, issuer=DIRECTORY).get(3)
    with pytest.raises(StatusListError):
        read_status_list_credential(vc, issuer=OTHER)


def test_member_list_verifies_with_the_directory_key_only() -> None:
    view = {"community": DIRECTORY, "name": "Verband", "members": [{"did": MEMBER, "name": "M"}]}
    token = sign_member_list(view, KEY, issuer=DIRECTORY, key_id="key-1", now=NOW)
    listed = verify_member_list(token, KEY.public_key, directory_did=DIRECTORY)
    assert listed.members[0]["did"] == MEMBER and listed.issued_at == NOW
    from allmende.identity.errors import TokenError

    with pytest.raises(TokenError):
        verify_member_list(token, OTHER_KEY.public_key, directory_did=DIRECTORY)
    with pytest.raises(TokenError):
        verify_member_list(token, KEY.public_key, directory_did=OTHER)
