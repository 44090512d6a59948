"""Node client certificates: the CSR approver and the ML-DSA-65 signer, run by `kubelite up`.

Kubernetes splits this between kube-controller-manager's `csrapproving` and `csrsigning`
controllers; kubelite runs both as one small loop over the CertificateSigningRequest API:

1. Recognise (pkg/controller/certificates/approver/sarapprove.go): signerName
   `kubernetes.io/kube-apiserver-client-kubelet`, subject `O=system:nodes`,
   `CN=system:node:<name>`, usages within {digital signature, key encipherment, client auth} and
   including client auth, no SANs. kubelite also requires an ML-DSA-65 public key, so every node
   identity is post-quantum.
2. Authorise the requester as Kubernetes does with a SubjectAccessReview: a CSR for the
   requester's own node name needs `create certificatesigningrequests/selfnodeclient` (renewal
   with the current node certificate); any other needs `.../nodeclient` (a bootstrap token).
   A CSR that fails either step is left pending, exactly like the upstream approver; one with a
   non-ML-DSA key is denied with a reason.
3. Sign approved CSRs of that signer with the ML-DSA-65 root (`ca-mldsa`), for
   `min(spec.expirationSeconds, max_validity)`, and write `status.certificate`.

Node agents' serving certificates (signer `kubernetes.io/kubelet-serving`, what a kubelet with
`serverTLSBootstrap` asks for) follow the same path with `decide_serving`. Upstream leaves these for
a human; kubelite approves one when the node asks for itself (requester `system:node:<name>` = CN)
with an ML-DSA-65 key, usages within {digital signature, key encipherment, server auth}, DNS names
among the node's name and host names, and IP addresses among those its Node object reports (so a
node cannot obtain a certificate for another node's address). Anything else stays pending.

Data flow: watch CSRs -> `decide(csr)` -> PUT `/approval` -> (watch event) -> `issue(csr)` ->
PUT `/status`. Decisions are pure functions of the CSR, so the loop is idempotent and restartable.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.x509.oid import NameOID

from kubelite.api.models.certificates import KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING
from kubelite.api.resources import CERTIFICATE_SIGNING_REQUESTS, NODES
from kubelite.client import ApiClient
from kubelite.client.errors import ApiError
from kubelite.clock import Clock

from .pki import Identity, cert_pem, issue_certificate
from .tokens import UserInfo

log = logging.getLogger(__name__)

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
ALLOWED_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
SERVING_ALLOWED_USAGES = frozenset({"digital signature", "key encipherment", "server auth"})
DEFAULT_MAX_VALIDITY = datetime.timedelta(days=365)
Verdict = Literal["approve", "deny", "ignore"]
#: May `user` create the subresource ("nodeclient" or "selfnodeclient") of certificatesigningrequests?
MayRequest = Callable[[UserInfo, str], bool]


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str
    message: str


def group_rule(user: UserInfo, subresource: str) -> bool:
    """The default policy's bindings, for use without an authorizer at hand."""
    if subresource == "selfnodeclient":
        return NODES_GROUP in user.groups
    return "system:bootstrappers" in user.groups


def _spec(csr: dict[str, Any]) -> dict[str, Any]:
    spec = csr.get("spec")
    return spec if isinstance(spec, dict) else {}


def _conditions(csr: dict[str, Any]) -> list[dict[str, Any]]:
    status = csr.get("status")
    items = status.get("conditions") if isinstance(status, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def parse_request(csr: dict[str, Any]) -> x509.CertificateSigningRequest | None:
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(str(_spec(csr).get("request", ""))))
    except ValueError:
        return None
    return request if request.is_signature_valid else None


def decide(csr: dict[str, Any], may_request: MayRequest) -> Decision:
    """The approver's verdict on one CSR (pure)."""
    spec = _spec(csr)
    if spec.get("signerName") != KUBE_APISERVER_CLIENT_KUBELET or _conditions(csr):
        return Decision("ignore", "", "")
    request = parse_request(csr)
    if request is None:
        return Decision("ignore", "", "")
    node_user = _node_subject(request)
    usages = set(spec.get("usages") or [])
    try:
        request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        has_sans = True
    except x509.ExtensionNotFound:
        has_sans = False
    recognised = node_user is not None and "client auth" in usages and usages <= ALLOWED_USAGES and not has_sans
    if not recognised:
        return Decision("ignore", "", "")
    requester = UserInfo(str(spec.get("username", "")), tuple(str(g) for g in spec.get("groups") or []), str(spec.get("uid", "")))
    subresource = "selfnodeclient" if requester.name == node_user else "nodeclient"
    if not may_request(requester, subresource):
        return Decision("ignore", "", "")
    if not isinstance(request.public_key(), mldsa.MLDSA65PublicKey):
        return Decision("deny", "PostQuantumKeyRequired", "node client certificates must use an ML-DSA-65 key")
    return Decision("approve", "AutoApproved", f"Auto approving kubelet client certificate after SubjectAccessReview ({subresource}).")


def _node_subject(request: x509.CertificateSigningRequest) -> str | None:
    """The CN of a `O=system:nodes, CN=system:node:<name>` subject, else None."""
    organizations = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    common_names = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if organizations == [NODES_GROUP] and len(common_names) == 1 and common_names[0].startswith(NODE_USER_PREFIX):
        return common_names[0]
    return None


def _sans(request: x509.CertificateSigningRequest) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses a CSR asks for."""
    try:
        names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return set(names.get_values_for_type(x509.DNSName)), {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}


def node_addresses(node: dict[str, Any] | None) -> tuple[set[str], set[str]] | None:
    """A Node's reported (host names, IP addresses), or None when there is no such Node."""
    if node is None:
        return None
    hosts, ips = {str(node.get("metadata", {}).get("name", ""))}, set()
    for address in (node.get("status") or {}).get("addresses") or []:
        value = str(address.get("address", ""))
        if address.get("type") in ("InternalIP", "ExternalIP"):
            ips.add(value)
        else:
            hosts.add(value)
    return hosts, ips


def decide_serving(csr: dict[str, Any], node: tuple[set[str], set[str]] | None) -> Decision:
    """The approver's verdict on a node's serving-certificate CSR, given its Node's addresses (pure)."""
    spec = _spec(csr)
    if spec.get("signerName") != KUBELET_SERVING or _conditions(csr):
        return Decision("ignore", "", "")
    request = parse_request(csr)
    user = _node_subject(request) if request is not None else None
    usages = set(spec.get("usages") or [])
    if request is None or user is None or "server auth" not in usages or not usages <= SERVING_ALLOWED_USAGES:
        return Decision("ignore", "", "")
    if spec.get("username") != user or node is None:
        return Decision("ignore", "", "")  # not the node itself, or not registered yet: a human decides
    if not isinstance(request.public_key(), mldsa.MLDSA65PublicKey):
        return Decision("deny", "PostQuantumKeyRequired", "node serving certificates must use an ML-DSA-65 key")
    dns, ips = _sans(request)
    hosts, addresses = node
    if not (dns or ips) or not dns <= hosts or not ips <= addresses:
        return Decision("ignore", "", "")
    return Decision("approve", "AutoApproved", "Auto approving kubelet serving certificate for the node's own names.")


def issue(csr: dict[str, Any], signer: Identity, now: datetime.datetime, max_validity: datetime.timedelta) -> str | None:
    """The base64 PEM certificate for an approved, unsigned CSR of our signers; None when not ours to sign."""
    spec = _spec(csr)
    status = csr.get("status") if isinstance(csr.get("status"), dict) else {}
    assert isinstance(status, dict)
    types = {condition.get("type") for condition in _conditions(csr)}
    signer_name = spec.get("signerName")
    if signer_name not in (KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING) or status.get("certificate"):
        return None
    if "Approved" not in types or types & {"Denied", "Failed"}:
        return None
    request = parse_request(csr)
    public_key = request.public_key() if request is not None else None
    if request is None or not isinstance(public_key, mldsa.MLDSA65PublicKey):
        return None
    seconds = spec.get("expirationSeconds")
    validity = max_validity
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        validity = min(validity, datetime.timedelta(seconds=seconds))
    subject = request.subject
    serving = signer_name == KUBELET_SERVING
    dns, ips = _sans(request) if serving else (set(), set())
    certificate = issue_certificate(
        signer,
        public_key,
        common_name=str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value),
        organizations=tuple(str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)),
        usage="server" if serving else "client",
        now=now,
        validity=validity,
        dns_names=tuple(sorted(dns)),
        ip_addresses=tuple(sorted(ips)),
    )
    return base64.b64encode(cert_pem(certificate)).decode()


@dataclass(frozen=True, slots=True)
class CsrSignerSettings:
    #: The ML-DSA-65 issuer of node certificates (the `ca-mldsa` root or an intermediate under it).
    signer: Identity
    #: Upper bound on an issued certificate's lifetime (kube-controller-manager's --cluster-signing-duration).
    max_validity: datetime.timedelta = DEFAULT_MAX_VALIDITY
    #: Authorises the requester (a SubjectAccessReview in Kubernetes); the default policy's groups by default.
    may_request: MayRequest = group_rule


class CsrController:
    """Approves and signs node client CSRs; `sync` handles one CSR, `run` follows the API."""

    def __init__(self, client: ApiClient, clock: Clock, settings: CsrSignerSettings) -> None:
        self._client = client
        self._clock = clock
        self._settings = settings

    def _now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self._clock.now(), datetime.UTC)

    async def _decide(self, csr: dict[str, Any]) -> Decision:
        if _spec(csr).get("signerName") != KUBELET_SERVING:
            return decide(csr, self._settings.may_request)
        request = parse_request(csr)
        user = _node_subject(request) if request is not None else None
        node = None
        if user is not None:
            with contextlib.suppress(ApiError):  # no Node (yet): nothing to check the addresses against
                node = await self._client.get(NODES, user.removeprefix(NODE_USER_PREFIX))
        return decide_serving(csr, node_addresses(node))

    async def sync(self, csr: dict[str, Any]) -> None:
        name = str((csr.get("metadata") or {}).get("name", ""))
        decision = await self._decide(csr)
        if decision.verdict != "ignore":
            condition = {
                "type": "Approved" if decision.verdict == "approve" else "Denied",
                "status": "True",
                "reason": decision.reason,
                "message": decision.message,
            }
            csr = {**csr, "status": {**(csr.get("status") or {}), "conditions": [condition]}}
            csr = await self._client.replace(CERTIFICATE_SIGNING_REQUESTS, csr, subresource="approval")
            log.info("CSR %s: %s (%s)", name, condition["type"], decision.reason)
        certificate = issue(csr, self._settings.signer, self._now(), self._settings.max_validity)
        if certificate is not None:
            csr = {**csr, "status": {**(csr.get("status") or {}), "certificate": certificate}}
            await self._client.replace_status(CERTIFICATE_SIGNING_REQUESTS, csr)
            log.info("CSR %s: issued", name)

    async def run(self, stop: asyncio.Event) -> None:
        """List, then watch, syncing every CSR; relist after a watch ends or a 410."""
        while not stop.is_set():
            try:
                items, version = await self._client.list_all(CERTIFICATE_SIGNING_REQUESTS)
                for item in items:
                    await self._sync_logged(item)
                async for event_type, obj in self._client.watch(CERTIFICATE_SIGNING_REQUESTS, resource_version=version):
                    if stop.is_set():
                        return
                    if event_type in ("ADDED", "MODIFIED"):
                        await self._sync_logged(obj)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("CSR watch failed; relisting")
                await self._clock.sleep(1.0)

    async def _sync_logged(self, csr: dict[str, Any]) -> None:
        try:
            await self.sync(csr)
        except ApiError as error:
            # 409: someone else moved it on; the next watch event brings the new state.
            if error.code != 409:
                log.warning("CSR sync failed: %s", error)


async def run_csr_controller(client: ApiClient, clock: Clock, settings: CsrSignerSettings, stop: asyncio.Event) -> None:
    """Entry point for `kubelite up`: approve and sign node client certificates until `stop`."""
    runner = asyncio.get_running_loop().create_task(CsrController(client, clock, settings).run(stop))
    stopped = asyncio.get_running_loop().create_task(stop.wait())
    try:
        await asyncio.wait({runner, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (runner, stopped):
            task.cancel()
        await asyncio.gather(runner, stopped, return_exceptions=True)
