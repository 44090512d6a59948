"""The cluster PKI: two roots, serving and client certificates, and the CA pin a joining node checks.

kubelite keeps two certificate hierarchies side by side under `DIR/pki`:

- `ca.crt` (ECDSA P-256) signs what classical clients must verify or present: the ECDSA serving
  certificate kubectl sees and the admin client certificate kubectl presents. Go's crypto/x509
  (kubectl, client-go) cannot verify ML-DSA signatures, so this root stays classical.
- `ca-mldsa.crt` (ML-DSA-65, FIPS 204) signs the ML-DSA-65 serving certificate that kubelite's own
  clients receive and every node's client certificate, so node identity survives a quantum attacker.

Both roots go into the kubeconfig's `certificate-authority-data` as one bundle; Go and OpenSSL 3.0
parse a bundle holding an ML-DSA certificate without complaint, and each client verifies the chain
it is served. A joining node pins the ML-DSA root by `sha256:<hex of SHA-256 over its
SubjectPublicKeyInfo>`, the same form kubeadm's `--discovery-token-ca-cert-hash` uses.

Data flow: `ensure_pki(dir, hosts)` creates any missing file (idempotent across restarts) and
returns a `ClusterPki`; `issue_certificate` signs a public key for a subject with either root.
Everything here is pure cryptography on the `cryptography` package; nothing touches the network.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | mldsa.MLDSA65PrivateKey
PublicKey = ec.EllipticCurvePublicKey | mldsa.MLDSA65PublicKey
KeyAlgorithm = Literal["ecdsa-p256", "mldsa65"]
Usage = Literal["server", "client"]

CA_VALIDITY = datetime.timedelta(days=3650)
LEAF_VALIDITY = datetime.timedelta(days=365)
#: Certificates start slightly in the past so a peer whose clock lags a little still accepts them.
BACKDATE = datetime.timedelta(minutes=5)
ADMIN_USER = "kubelite-admin"
MASTERS_GROUP = "system:masters"
#: The API server's identity towards node agents (kube-apiserver's --kubelet-client-certificate).
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"


def generate_key(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm == "mldsa65":
        return mldsa.MLDSA65PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def key_algorithm(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    return "mldsa65" if isinstance(key, mldsa.MLDSA65PrivateKey | mldsa.MLDSA65PublicKey) else "ecdsa-p256"


def _digest_for(key: PrivateKey) -> hashes.SHA256 | None:
    # ML-DSA signs the message itself (pure mode); ECDSA needs a digest.
    return None if isinstance(key, mldsa.MLDSA65PrivateKey) else hashes.SHA256()


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key_pem(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | mldsa.MLDSA65PrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True, slots=True)
class Identity:
    """A private key and the certificate that binds it to a name."""

    key: PrivateKey
    certificate: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return key_pem(self.key)

    @property
    def cert_pem(self) -> bytes:
        return cert_pem(self.certificate)


def _subject(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def create_root(common_name: str, algorithm: KeyAlgorithm, now: datetime.datetime) -> Identity:
    key = generate_key(algorithm)
    name = _subject(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, _digest_for(key))
    )
    return Identity(key, certificate)


def issue_certificate(
    issuer: Identity,
    public_key: PublicKey,
    *,
    common_name: str,
    organizations: tuple[str, ...] = (),
    usage: Usage,
    now: datetime.datetime,
    validity: datetime.timedelta = LEAF_VALIDITY,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
) -> x509.Certificate:
    """Sign a leaf certificate for `public_key` with `issuer` (either root)."""
    eku = ExtendedKeyUsageOID.SERVER_AUTH if usage == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(common_name, organizations))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + validity, issuer.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    if dns_names or ip_addresses:
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer.key, _digest_for(issuer.key))


def ca_cert_hash(certificate: x509.Certificate) -> str:
    """kubeadm's CA pin: `sha256:` + hex SHA-256 of the DER SubjectPublicKeyInfo."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def split_addresses(addresses: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Host names and IP addresses, each in order without repeats (a certificate's DNS and IP SANs)."""
    dns: list[str] = []
    ips: list[str] = []
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            dns.append(address)
        else:
            ips.append(address)
    return tuple(dict.fromkeys(dns)), tuple(dict.fromkeys(ips))


def serving_names(advertise_addresses: tuple[str, ...] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The serving certificate's SANs: localhost, 127.0.0.1, ::1, the host name, advertised addresses."""
    defaults = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", socket.gethostname())
    return split_addresses((*defaults, "127.0.0.1", "::1", *advertise_addresses))


@dataclass(frozen=True, slots=True)
class ClusterPki:
    """Everything `kubelite up` keeps under `DIR/pki`."""

    ca: Identity
    ca_mldsa: Identity
    serving_ecdsa: Identity
    serving_mldsa: Identity
    admin: Identity
    service_account_key: ec.EllipticCurvePrivateKey
    directory: Path
    #: ML-DSA-65 client certificate the API server presents to node agents (logs, stats).
    kubelet_client: Identity

    @property
    def ca_bundle_pem(self) -> bytes:
        """Both roots, as the kubeconfig's certificate-authority-data carries them."""
        return self.ca.cert_pem + self.ca_mldsa.cert_pem

    @property
    def ca_cert_hash(self) -> str:
        return ca_cert_hash(self.ca_mldsa.certificate)

    def path(self, name: str) -> Path:
        return self.directory / name


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def _load_or_create(directory: Path, stem: str, create: Callable[[], Identity]) -> Identity:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    if cert_path.exists() and key_path.exists():
        return Identity(load_key_pem(key_path.read_bytes()), x509.load_pem_x509_certificate(cert_path.read_bytes()))
    identity = create()
    _write_private(key_path, identity.key_pem)
    _write_private(cert_path, identity.cert_pem)
    return identity


def ensure_pki(
    directory: Path, advertise_addresses: tuple[str, ...] = (), now: datetime.datetime | None = None
) -> ClusterPki:
    """Load the PKI under `directory`, creating whatever is missing (restarts keep the same CA)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    moment = now or datetime.datetime.now(datetime.UTC)
    ca = _load_or_create(directory, "ca", lambda: create_root("kubelite-ca", "ecdsa-p256", moment))
    ca_mldsa = _load_or_create(
        directory, "ca-mldsa", lambda: create_root("kubelite-ca-mldsa", "mldsa65", moment)
    )
    dns, ips = serving_names(advertise_addresses)

    def serving(issuer: Identity, algorithm: KeyAlgorithm) -> Identity:
        key = generate_key(algorithm)
        certificate = issue_certificate(
            issuer,
            key.public_key(),
            common_name="kube-apiserver",
            usage="server",
            now=moment,
            dns_names=dns,
            ip_addresses=ips,
        )
        return Identity(key, certificate)

    def admin() -> Identity:
        key = generate_key("ecdsa-p256")
        certificate = issue_certificate(
            ca, key.public_key(), common_name=ADMIN_USER, organizations=(MASTERS_GROUP,), usage="client", now=moment
        )
        return Identity(key, certificate)

    serving_ecdsa = _load_or_create(directory, "apiserver", lambda: serving(ca, "ecdsa-p256"))
    serving_mldsa = _load_or_create(directory, "apiserver-mldsa", lambda: serving(ca_mldsa, "mldsa65"))
    if not _covers(serving_ecdsa.certificate, dns, ips):
        # A new --advertise-address needs new SANs; the roots (and so every pin) stay the same.
        serving_ecdsa = serving(ca, "ecdsa-p256")
        serving_mldsa = serving(ca_mldsa, "mldsa65")
        for stem, identity in (("apiserver", serving_ecdsa), ("apiserver-mldsa", serving_mldsa)):
            _write_private(directory / f"{stem}.key", identity.key_pem)
            _write_private(directory / f"{stem}.crt", identity.cert_pem)
    admin_identity = _load_or_create(directory, "admin", admin)

    def kubelet_client() -> Identity:
        key = generate_key("mldsa65")
        certificate = issue_certificate(
            ca_mldsa, key.public_key(), common_name=KUBELET_CLIENT_USER, organizations=(MASTERS_GROUP,),
            usage="client", now=moment,
        )  # fmt: skip
        return Identity(key, certificate)

    kubelet_client_identity = _load_or_create(directory, "apiserver-kubelet-client", kubelet_client)
    sa_path = directory / "sa.key"
    if not sa_path.exists():
        _write_private(sa_path, key_pem(generate_key("ecdsa-p256")))
    sa_key = load_key_pem(sa_path.read_bytes())
    assert isinstance(sa_key, ec.EllipticCurvePrivateKey)
    return ClusterPki(
        ca, ca_mldsa, serving_ecdsa, serving_mldsa, admin_identity, sa_key, directory, kubelet_client_identity
    )


def agent_serving_identity(
    issuer: Identity, node_name: str, addresses: tuple[str, ...], now: datetime.datetime
) -> Identity:
    """An ML-DSA-65 serving certificate for a node agent's endpoint (the kubelet's serving
    certificate): `system:node:<name>` in `system:nodes`, SANs the node name and its addresses."""
    key = generate_key("mldsa65")
    dns, ips = split_addresses((node_name, *addresses))
    certificate = issue_certificate(
        issuer, key.public_key(), common_name=f"system:node:{node_name}", organizations=("system:nodes",),
        usage="server", now=now, dns_names=dns, ip_addresses=ips,
    )  # fmt: skip
    return Identity(key, certificate)


def _covers(certificate: x509.Certificate, dns: tuple[str, ...], ips: tuple[str, ...]) -> bool:
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(sans.get_values_for_type(x509.DNSName))
    have_ips = {str(address) for address in sans.get_values_for_type(x509.IPAddress)}
    return set(dns) <= have_dns and {str(ipaddress.ip_address(ip)) for ip in ips} <= have_ips


def subject_identity(certificate: x509.Certificate) -> tuple[str, tuple[str, ...]]:
    """Kubernetes' reading of a client certificate: CN is the user name, each O a group."""
    subject = certificate.subject
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    user = str(names[0].value) if names else ""
    groups = tuple(str(attribute.value) for attribute in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return user, groups
