"""TLS 1.3 termination with hybrid post-quantum key exchange, for the API server and node agents.

Python's `ssl` module links the system OpenSSL 3.0, which has no ML-KEM. The `cryptography`
wheel bundles OpenSSL 4, which has both ML-KEM (FIPS 203) and ML-DSA (FIPS 204), and pyOpenSSL
drives that library. So each accepted socket gets a `TlsConnection`: an asyncio protocol that owns
the raw transport, runs a pyOpenSSL `SSL.Connection` over memory BIOs, and hands the plaintext to
the ordinary `HttpConnection` through `_PlaintextTransport` (or to any asyncio protocol: a node
agent's endpoint is served the same way, with `required_client_users` admitting only the API
server).

Negotiation policy (`TlsSettings`):
- Key exchange: the server's group list is `X25519MLKEM768 / X25519:...` in OpenSSL's tuple
  syntax, so any client that lists the hybrid group gets it (with a HelloRetryRequest if it sent
  no hybrid key share), and the classical groups are reached only by clients that offer nothing
  else. `require_pq` drops the classical tuple, so such clients fail the handshake.
- Server certificate: both an ECDSA P-256 and an ML-DSA-65 certificate are loaded on one context;
  OpenSSL picks the one whose key type matches the client's signature_algorithms, so kubelite's
  clients (OpenSSL 4 offers `mldsa65`) get ML-DSA and kubectl (Go) gets ECDSA.
- Client certificates are requested, not required. Chain verification runs in OpenSSL against
  the cluster roots; a failure does not abort the handshake but is recorded, so the x509
  authenticator can answer 401 as kube-apiserver does, rather than the client seeing a TLS alert.

Every completed handshake increments `kubelite_tls_handshakes_total{group,version}`; failures
increment `kubelite_tls_handshake_failures_total`.

Data flow: raw bytes -> `bio_write` -> handshake or `recv` -> `HttpConnection.data_received`;
`HttpConnection` writes -> `_PlaintextTransport.write` -> `SSL.send` -> `bio_read` -> raw transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.bindings.openssl.binding import Binding
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from prometheus_client import CollectorRegistry, Counter

from .groups import CLASSICAL_GROUPS, PQ_GROUPS, negotiated_group, set_groups, verify_error_text

log = logging.getLogger(__name__)

_CHUNK = 16384  # one TLS record's worth of plaintext
SESSION_LIFETIME_SECONDS = 600
_lib = Binding().lib
_SSL_MODE_NO_AUTO_CHAIN = 0x8  # ssl.h; not exported by the cryptography binding


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """A server's TLS material (PEM bytes) and policy: the API server's, or a node agent's."""

    #: ML-DSA-65 serving certificate and key: for clients that offer `mldsa65`.
    mldsa_cert_pem: bytes
    mldsa_key_pem: bytes
    #: Roots that client certificates must chain to (PEM bundle).
    client_ca_pem: bytes
    #: ECDSA P-256 serving certificate and key: for clients without ML-DSA (kubectl). A node
    #: agent, whose only client is the API server, has none.
    ecdsa_cert_pem: bytes | None = None
    ecdsa_key_pem: bytes | None = None
    #: Refuse clients that offer no post-quantum hybrid group.
    require_pq: bool = False
    #: When set, the handshake itself requires a client certificate that chains to the roots and
    #: names one of these users (CN): a node agent admits only the API server this way. When unset,
    #: client certificates are optional and judged later by authentication (the API server).
    required_client_users: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    """What the handshake established about the client's certificate."""

    certificate: x509.Certificate
    #: OpenSSL's chain verification against the cluster roots succeeded (expiry included).
    verified: bool
    #: The first verification error, as OpenSSL names it; "" when verified.
    error: str


class TlsTerminator:
    """Builds the server context once and wraps each accepted connection."""

    def __init__(self, settings: TlsSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.handshakes = Counter(
            "kubelite_tls_handshakes_total",
            "Completed TLS handshakes by negotiated key-exchange group and protocol version.",
            ("group", "version"),
            registry=registry,
        )
        self.failures = Counter(
            "kubelite_tls_handshake_failures_total", "TLS handshakes that failed.", registry=registry
        )
        self.handshake_cpu = Counter(
            "kubelite_tls_handshake_cpu_seconds",
            "Server thread CPU spent inside TLS handshakes (divide by handshakes for the per-handshake cost).",
            registry=registry,
        )
        self.context = self._context(settings)
        self._client_roots = crypto.X509Store()
        for root in x509.load_pem_x509_certificates(settings.client_ca_pem):
            self._client_roots.add_cert(crypto.X509.from_cryptography(root))

    @staticmethod
    def _context(settings: TlsSettings) -> SSL.Context:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        # TLS 1.2 cannot carry ML-KEM, so under require_pq only TLS 1.3 remains.
        if settings.require_pq:
            context.set_min_proto_version(SSL.TLS1_3_VERSION)
        groups = PQ_GROUPS if settings.require_pq else f"{PQ_GROUPS} / {CLASSICAL_GROUPS}"
        set_groups(context, groups)
        for cert_pem, key_pem in (
            (settings.ecdsa_cert_pem, settings.ecdsa_key_pem),
            (settings.mldsa_cert_pem, settings.mldsa_key_pem),
        ):
            if cert_pem is None or key_pem is None:
                continue
            context.use_certificate(crypto.load_certificate(crypto.FILETYPE_PEM, cert_pem))
            context.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, key_pem))
            context.check_privatekey()
        store = context.get_cert_store()
        assert store is not None
        for root in x509.load_pem_x509_certificates(settings.client_ca_pem):
            store.add_cert(crypto.X509.from_cryptography(root))
        if settings.required_client_users is None:
            context.set_verify(SSL.VERIFY_PEER, _record_verification)
        else:
            context.set_verify(
                SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _admit_only(settings.required_client_users)
            )
        # Send the leaf alone: clients hold the roots (RFC 8446 lets the server omit them), and
        # OpenSSL's automatic chain building would otherwise re-verify the server's own ML-DSA
        # certificate and append the 5 KB root on every handshake.
        context.set_mode(_SSL_MODE_NO_AUTO_CHAIN)
        context.set_session_id(b"kubelite-apiserver")
        # Resumption tickets live 10 minutes: a resumed connection skips certificate checks, so
        # a revoked or expired client certificate stops working within that window.
        context.set_timeout(SESSION_LIFETIME_SECONDS)
        return context

    def reverify(self, certificate: crypto.X509) -> str:
        """Chain verification of a client certificate against the cluster roots; "" when it passes."""
        try:
            crypto.X509StoreContext(self._client_roots, certificate).verify_certificate()
        except crypto.X509StoreContextError as error:
            return str(error)
        return ""

    def wrap(self, inner: asyncio.Protocol) -> TlsConnection:
        return TlsConnection(self, inner)


def _record_verification(
    connection: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int
) -> bool:
    """Note the first chain error on the connection and carry on; authentication decides later."""
    owner = connection.get_app_data()
    if not ok and isinstance(owner, TlsConnection) and not owner.verify_error:
        owner.verify_error = verify_error_text(errnum)
    return True


def _admit_only(users: tuple[str, ...]) -> Callable[[SSL.Connection, crypto.X509, int, int, int], bool]:
    """A verify callback: OpenSSL's chain verdict, and at the leaf a user (CN) among `users`."""
    admitted = frozenset(users)

    def verify(connection: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
        if not ok or depth > 0:
            return bool(ok)
        names = cert.to_cryptography().subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return bool(names) and str(names[0].value) in admitted

    return verify


class _PlaintextTransport(asyncio.Transport):
    """What `HttpConnection` writes to: encrypts and forwards to the raw transport."""

    def __init__(self, owner: TlsConnection) -> None:
        super().__init__()
        self._owner = owner

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._owner.send_plaintext(bytes(data))

    def close(self) -> None:
        self._owner.close()

    def abort(self) -> None:
        self._owner.abort()

    def is_closing(self) -> bool:
        return self._owner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._owner.ssl
        return self._owner.raw_extra(name, default)

    def pause_reading(self) -> None:
        self._owner.raw_call("pause_reading")

    def resume_reading(self) -> None:
        self._owner.raw_call("resume_reading")

    def get_write_buffer_size(self) -> int:
        return int(self._owner.raw_call("get_write_buffer_size") or 0)


class TlsConnection(asyncio.Protocol):
    """One TLS connection: handshake, then decrypt into and encrypt out of an `HttpConnection`."""

    def __init__(self, terminator: TlsTerminator, inner: asyncio.Protocol) -> None:
        self._terminator = terminator
        self._inner = inner
        self.ssl = SSL.Connection(terminator.context, None)
        self.ssl.set_accept_state()
        self.ssl.set_app_data(self)
        self._raw: asyncio.Transport | None = None
        self._established = False
        self._closing = False
        self.verify_error = ""

    # raw side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._raw = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        self.ssl.bio_write(data)
        if not self._established:
            started = time.thread_time()
            try:
                self.ssl.do_handshake()
            except SSL.WantReadError:
                self._flush()
                self._terminator.handshake_cpu.inc(time.thread_time() - started)
                return
            except SSL.Error as error:
                self._terminator.failures.inc()
                log.debug("TLS handshake failed: %s", error)
                self._flush()
                self.abort()
                return
            self._flush()
            self._terminator.handshake_cpu.inc(time.thread_time() - started)
            self._on_established()
        self._pump_plaintext()

    def _on_established(self) -> None:
        self._established = True
        self._terminator.handshakes.labels(
            negotiated_group(self.ssl), self.ssl.get_protocol_version_name()
        ).inc()
        peer = self.ssl.get_peer_certificate()
        # The API server's HttpConnection takes what the handshake established for authentication;
        # other protocols (a node agent's endpoint) were already screened by the handshake itself.
        info: dict[str, object] = getattr(self._inner, "connection_info", {})
        info["tls_group"] = negotiated_group(self.ssl)
        info["tls_version"] = self.ssl.get_protocol_version_name()
        if peer is not None:
            error = self.verify_error
            if _lib.SSL_session_reused(self.ssl._ssl):
                # A resumed session skips the verify callback (and its ticket may come from a
                # handshake whose verification failed), so verify the remembered certificate
                # again: one signature check, still far cheaper than a full ML-DSA handshake.
                error = self._terminator.reverify(peer)
            info["peer_certificate"] = PeerCertificate(peer.to_cryptography(), verified=not error, error=error)
        self._inner.connection_made(_PlaintextTransport(self))

    def _pump_plaintext(self) -> None:
        while not self._closing:
            try:
                plaintext = self.ssl.recv(65536)
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                self.close()
                break
            except SSL.Error as error:
                log.debug("TLS record error: %s", error)
                self.abort()
                break
            if not plaintext:
                break
            self._inner.data_received(plaintext)
        self._flush()  # post-handshake messages (session tickets, key updates)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._established:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._established:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._established:
            self._inner.resume_writing()

    # plaintext side
    def send_plaintext(self, data: bytes) -> None:
        if self._closing:
            return
        view = memoryview(data)
        try:
            for start in range(0, len(view), _CHUNK):
                self.ssl.send(view[start : start + _CHUNK])
        except SSL.Error:
            self.abort()
            return
        self._flush()

    def _flush(self) -> None:
        raw = self._raw
        while True:
            try:
                ciphertext = self.ssl.bio_read(65536)
            except SSL.WantReadError:
                return
            if raw is not None and not raw.is_closing():
                raw.write(ciphertext)

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._established:
            with contextlib.suppress(SSL.Error):
                self.ssl.shutdown()  # queue close_notify
            self._flush()
        if self._raw is not None:
            self._raw.close()

    def abort(self) -> None:
        self._closing = True
        if self._raw is not None:
            self._raw.close()

    def is_closing(self) -> bool:
        return self._closing or self._raw is None or self._raw.is_closing()

    def raw_extra(self, name: str, default: Any) -> Any:
        return self._raw.get_extra_info(name, default) if self._raw is not None else default

    def raw_call(self, method: str) -> Any:
        if self._raw is not None and not self._raw.is_closing():
            return getattr(self._raw, method)()
        return None
