"""NIST ACVP vectors (FIPS 203 ML-KEM-768, FIPS 204 ML-DSA-65) through the primitives kubelite uses.

kubelite performs ML-KEM-768 inside TLS (X25519MLKEM768) and ML-DSA-65 key generation, signing
and verification for certificates, all in the OpenSSL that `cryptography` 50 bundles. Following
`acvp/NOTES.txt`, these are the checks that library can make: key generation from seeds,
decapsulation (including implicit rejection), encapsulation-key validation, pure and external-mu
signature verification, and sign/verify round trips. Exact encapsulation from `m`, expanded
private keys and fixed-randomness signing are not exposed, so those vectors cannot be replayed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem

ACVP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "acvp"
pytestmark = pytest.mark.skipif(not ACVP.exists(), reason="ACVP vectors not present")


@cache
def _groups(folder: str, file: str = "internalProjection.json") -> list[dict[str, Any]]:
    return json.loads((ACVP / folder / file).read_text())["testGroups"]  # type: ignore[no-any-return]


def _tests(folder: str, **where: object) -> list[dict[str, Any]]:
    return [test for group in _groups(folder) if all(group.get(k) == v for k, v in where.items()) for test in group["tests"]]


def test_ml_kem_768_keygen_from_seed() -> None:
    tests = _tests("ML-KEM-keyGen-FIPS203", parameterSet="ML-KEM-768")
    assert len(tests) == 25
    for test in tests:
        key = mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes.fromhex(test["d"] + test["z"]))
        assert key.public_key().public_bytes_raw().hex().upper() == test["ek"], test["tcId"]
        secret, ciphertext = key.public_key().encapsulate()
        assert key.decapsulate(ciphertext) == secret


def test_ml_kem_768_decapsulation_with_implicit_rejection() -> None:
    tests = _tests("ML-KEM-encapDecap-FIPS203-tr1", function="decapsulation", keyFormat="seed")
    assert tests
    reasons = set()
    for test in tests:
        key = mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes.fromhex(test["d"] + test["z"]))
        assert key.decapsulate(bytes.fromhex(test["c"])).hex().upper() == test["k"], test["tcId"]
        reasons.add(test.get("reason"))
    assert "modified ciphertext" in reasons


def test_ml_kem_768_encapsulation_key_check() -> None:
    tests = _tests("ML-KEM-encapDecap-FIPS203", function="encapsulationKeyCheck")
    assert len(tests) == 10
    for test in tests:
        try:
            mlkem.MLKEM768PublicKey.from_public_bytes(bytes.fromhex(test["ek"]))
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == test["testPassed"], test["tcId"]


def test_ml_dsa_65_keygen_from_seed_and_round_trip() -> None:
    tests = _tests("ML-DSA-keyGen-FIPS204", parameterSet="ML-DSA-65")
    assert len(tests) == 25
    for test in tests:
        key = mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes.fromhex(test["seed"]))
        assert key.public_key().public_bytes_raw().hex().upper() == test["pk"], test["tcId"]
        signature = key.sign(b"kubelite", b"ctx")
        key.public_key().verify(signature, b"kubelite", b"ctx")


@pytest.mark.parametrize(("where", "uses_mu"), [
    pytest.param({"signatureInterface": "external", "preHash": "pure"}, False, id="pure-with-context"),
    pytest.param({"signatureInterface": "internal", "externalMu": True}, True, id="external-mu"),
])
def test_ml_dsa_65_signature_verification(where: dict[str, object], uses_mu: bool) -> None:
    tests = _tests("ML-DSA-sigVer-FIPS204", parameterSet="ML-DSA-65", **where)
    assert len(tests) == 15
    for test in tests:
        public = mldsa.MLDSA65PublicKey.from_public_bytes(bytes.fromhex(test["pk"]))
        signature = bytes.fromhex(test["signature"])
        try:
            if uses_mu:
                public.verify_mu(signature, bytes.fromhex(test["mu"]))
            else:
                public.verify(signature, bytes.fromhex(test["message"]), bytes.fromhex(test.get("context", "")))
            verified = True
        except InvalidSignature:
            verified = False
        assert verified == test["testPassed"], (test["tcId"], test["reason"])


def test_pki_certificates_are_ml_dsa_65_and_verify(tmp_path: Path) -> None:
    from kubelite.security.pki import ensure_pki

    pki = ensure_pki(tmp_path / "pki")
    for identity in (pki.ca_mldsa, pki.serving_mldsa):
        assert isinstance(identity.key, mldsa.MLDSA65PrivateKey)
        assert identity.certificate.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"
    pki.serving_mldsa.certificate.verify_directly_issued_by(pki.ca_mldsa.certificate)
