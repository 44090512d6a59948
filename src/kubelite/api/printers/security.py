"""Table rows for the RBAC kinds and CertificateSigningRequests, with Kubernetes' columns.

Follows pkg/printers/internalversion/printers.go: roles print their creation time, bindings
`Kind/name` of the role and (wide) the users, groups and service accounts they bind, and a CSR
its signer, requestor, requested duration and condition ("Pending", "Approved,Issued", ...).
"""

from __future__ import annotations

from typing import Any

from kubelite.api.printers.common import (
    AGE_COLUMN,
    NAME_COLUMN,
    JSONObject,
    age_of,
    column,
    dicts,
    get,
    human_duration,
    name_of,
)

ROLE_COLUMNS = [
    NAME_COLUMN,
    column("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created."),
]


def role_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), str(get(obj, "metadata", "creationTimestamp") or "")]


BINDING_COLUMNS = [
    NAME_COLUMN,
    column("Role", description="Role of the binding."),
    AGE_COLUMN,
    column("Users", description="Users in the binding.", wide=True),
    column("Groups", description="Groups in the binding.", wide=True),
    column("ServiceAccounts", description="ServiceAccounts in the binding.", wide=True),
]


def binding_row(obj: JSONObject, now: float) -> list[Any]:
    users, groups, accounts = [], [], []
    for subject in dicts(obj.get("subjects")):
        name = str(subject.get("name") or "")
        kind = subject.get("kind")
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace') or ''}/{name}")
    role = f"{get(obj, 'roleRef', 'kind') or ''}/{get(obj, 'roleRef', 'name') or ''}"
    return [name_of(obj), role, age_of(obj, now), ", ".join(users), ", ".join(groups), ", ".join(accounts)]


CSR_COLUMNS = [
    NAME_COLUMN,
    AGE_COLUMN,
    column("SignerName", description="The signer the request names."),
    column("Requestor", description="Request the user who created the certificate request."),
    column("RequestedDuration", description="The requested validity of the issued certificate."),
    column("Condition", description="The approval state and whether a certificate was issued."),
]


def csr_condition(obj: JSONObject) -> str:
    """extractCSRStatus: the condition types joined, "Pending" without any, ",Issued" once signed."""
    types = [str(condition.get("type")) for condition in dicts(get(obj, "status", "conditions"))]
    state = ",".join(types) if types else "Pending"
    return f"{state},Issued" if get(obj, "status", "certificate") else state


def csr_row(obj: JSONObject, now: float) -> list[Any]:
    seconds = get(obj, "spec", "expirationSeconds")
    duration = human_duration(seconds) if isinstance(seconds, int) and not isinstance(seconds, bool) else "<none>"
    return [
        name_of(obj),
        age_of(obj, now),
        str(get(obj, "spec", "signerName") or ""),
        str(get(obj, "spec", "username") or ""),
        duration,
        csr_condition(obj),
    ]
