"""Validation of certificates.k8s.io/v1 CertificateSigningRequest and the access-review kinds.

CSR rules follow pkg/apis/certificates/validation: `spec.request` must be one PEM `CERTIFICATE
REQUEST` whose signature checks, `signerName` must look like `example.com/signer-name`,
`usages` must be non-empty and known, `expirationSeconds` at least 600; conditions may not repeat
a type, Approved and Denied exclude each other and must be "True"; `status.certificate`, when set,
must be PEM certificates. On update, the spec may not change (the requester's identity is fixed
at creation).

SelfSubjectAccessReview needs exactly one of resourceAttributes and nonResourceAttributes.
Both review kinds are answered, not stored, so their metadata is not a name to check.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509

from kubelite.api.models.authorization import SelfSubjectAccessReview
from kubelite.api.models.certificates import CertificateSigningRequest
from kubelite.api.validation.errors import FieldError, duplicate, invalid, not_supported, required

KEY_USAGES = (
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
)  # fmt: skip
MIN_EXPIRATION_SECONDS = 600
_SIGNER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[^/\s]+$")


def _pem(encoded: str) -> bytes | str:
    """The PEM bytes inside a base64 field, or the problem as Kubernetes words it."""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "illegal base64 data"


def csr_problem(encoded: str) -> str:
    """Why `spec.request` is not a usable CSR; "" when it is one."""
    pem = _pem(encoded)
    if isinstance(pem, str):
        return pem
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in pem:
        return "PEM block type must be CERTIFICATE REQUEST"
    try:
        request = x509.load_pem_x509_csr(pem)
    except ValueError as error:
        return f"cannot parse the certificate request: {error}"
    return "" if request.is_signature_valid else "the certificate request's signature does not verify"


def validate_signer_name(field: str, name: str) -> list[FieldError]:
    if not name:
        return [required(field)]
    if not _SIGNER_NAME.match(name):
        detail = "must be a fully qualified domain and path of the form 'example.com/signer-name'"
        return [invalid(field, name, detail)]
    return []


def validate_csr(new: CertificateSigningRequest, old: CertificateSigningRequest | None) -> list[FieldError]:
    spec = new.spec
    errors: list[FieldError] = []
    if not spec.request:
        errors.append(required("spec.request"))
    elif problem := csr_problem(spec.request):
        errors.append(invalid("spec.request", "<request>", problem))
    errors.extend(validate_signer_name("spec.signerName", spec.signer_name))
    if not spec.usages:
        errors.append(required("spec.usages"))
    for index, usage in enumerate(spec.usages or []):
        if usage not in KEY_USAGES:
            errors.append(not_supported(f"spec.usages[{index}]", usage, KEY_USAGES))
    if spec.expiration_seconds is not None and spec.expiration_seconds < MIN_EXPIRATION_SECONDS:
        detail = "may not specify a duration less than 600 seconds (10 minutes)"
        errors.append(invalid("spec.expirationSeconds", spec.expiration_seconds, detail))
    status = new.status
    seen: set[str] = set()
    for index, condition in enumerate((status.conditions if status else None) or []):
        path = f"status.conditions[{index}]"
        if not condition.type:
            errors.append(required(f"{path}.type"))
        if condition.type in seen:
            errors.append(duplicate(f"{path}.type", condition.type))
        seen.add(condition.type)
        if condition.type in ("Approved", "Denied") and condition.status != "True":
            errors.append(not_supported(f"{path}.status", condition.status, ["True"]))
    if {"Approved", "Denied"} <= seen:
        errors.append(invalid("status.conditions", "Approved", "Approved and Denied conditions are mutually exclusive"))
    if status is not None and status.certificate:
        pem = _pem(status.certificate)
        if isinstance(pem, str) or b"-----BEGIN CERTIFICATE-----" not in pem:
            errors.append(invalid("status.certificate", "<certificate>", "must contain at least one CERTIFICATE PEM block"))
        else:
            try:
                x509.load_pem_x509_certificates(pem)
            except ValueError as error:
                errors.append(invalid("status.certificate", "<certificate>", str(error)))
    if old is not None and new.spec != old.spec:
        errors.append(invalid("spec", "<spec>", "field is immutable"))
    return errors


def validate_self_subject_access_review(
    new: SelfSubjectAccessReview, old: SelfSubjectAccessReview | None
) -> list[FieldError]:
    spec = new.spec
    if spec.resource_attributes is None and spec.non_resource_attributes is None:
        detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        return [required("spec.resourceAttributes", detail)]
    if spec.resource_attributes is not None and spec.non_resource_attributes is not None:
        detail = "cannot be specified in combination with resourceAttributes"
        return [invalid("spec.nonResourceAttributes", "<attributes>", detail)]
    return []
