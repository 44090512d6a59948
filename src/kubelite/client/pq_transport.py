"""A post-quantum HTTPS transport: HTTP/1.1 (h11) over TLS 1.3 from the OpenSSL that `cryptography` bundles.

httpx rides on Python's `ssl`, i.e. the system OpenSSL 3.0, which cannot negotiate ML-KEM. This
transport instead runs pyOpenSSL (OpenSSL 4) over memory BIOs on asyncio streams, so every
kubelite client offers the hybrid group X25519MLKEM768 first and `mldsa65` among its signature
algorithms; the API server then answers with its ML-DSA-65 certificate.

- Trust: the server's chain must verify against the given CA bundle (the kubeconfig's
  `certificate-authority-data`), and the host name or IP must match a SAN.
- Credentials: an optional client certificate (ML-DSA-65 or ECDSA) and/or a bearer token.
- Connections: a keep-alive pool; a watch takes a connection of its own for its lifetime.
- `http://` URLs work too (no TLS), so a benchmark can compare the two with the same client code.

Data flow: `HttpRequest` -> h11 events -> bytes -> `SSL.send` -> `bio_read` -> socket; socket ->
`bio_write` -> `SSL.recv` -> h11 -> `HttpResponse` (or lines, for `stream_lines`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
from cryptography import x509
from cryptography.hazmat.bindings.openssl.binding import Binding
from OpenSSL import SSL, crypto

from kubelite.tls.groups import CLASSICAL_GROUPS, PQ_GROUPS, set_groups

from .core import HttpRequest, HttpResponse, error_from
from .errors import TransportError

_lib = Binding().lib

@dataclass(frozen=True, slots=True)
class TlsClientSettings:
    """Trust anchors, optional client credential, and the groups to offer."""

    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    #: Skip server verification entirely (only for fetching a CA that is then pinned by hash).
    insecure: bool = False
    #: Override the offered groups (tests use "X25519" to play a classical client).
    groups: str | None = None
    #: Override the offered signature algorithms (OpenSSL syntax; "ECDSA+SHA256" plays a client
    #: without ML-DSA, which then gets the ECDSA serving certificate).
    signature_algorithms: str | None = None


def client_context(settings: TlsClientSettings) -> SSL.Context:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    set_groups(context, settings.groups or f"{PQ_GROUPS}:{CLASSICAL_GROUPS}")
    algorithms = settings.signature_algorithms
    if algorithms is not None and _lib.SSL_CTX_set1_sigalgs_list(context._context, algorithms.encode()) != 1:
        raise ValueError(f"OpenSSL rejected the signature algorithms {algorithms!r}")
    if settings.client_cert_pem and settings.client_key_pem:
        chain = x509.load_pem_x509_certificates(settings.client_cert_pem)
        context.use_certificate(crypto.X509.from_cryptography(chain[0]))
        for extra in chain[1:]:
            context.add_extra_chain_cert(crypto.X509.from_cryptography(extra))
        context.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, settings.client_key_pem))
        context.check_privatekey()
    if not settings.insecure:
        store = context.get_cert_store()
        assert store is not None
        for root in x509.load_pem_x509_certificates(settings.ca_pem) if settings.ca_pem else ():
            store.add_cert(crypto.X509.from_cryptography(root))
        if settings.ca_pem is None:
            context.set_default_verify_paths()
        context.set_verify(SSL.VERIFY_PEER)  # OpenSSL's own verdict, without a Python callback per certificate
    return context


def _expect_host(connection: SSL.Connection, host: str) -> None:
    """Make OpenSSL check the server certificate's SANs against the host we dialled."""
    param = _lib.SSL_get0_param(connection._ssl)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        connection.set_tlsext_host_name(host.encode())
        ok = _lib.X509_VERIFY_PARAM_set1_host(param, host.encode(), len(host))
    else:
        packed = address.packed
        ok = _lib.X509_VERIFY_PARAM_set1_ip(param, packed, len(packed))
    if ok != 1:
        raise TransportError(f"cannot verify host {host!r}")


class _Connection:
    """One socket, optionally with TLS on memory BIOs, speaking HTTP/1.1 through h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: SSL.Connection | None):
        self._reader = reader
        self._writer = writer
        self.tls = tls
        self.http = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(
        cls, host: str, port: int, context: SSL.Context | None, verify_host: bool, session: SSL.Session | None = None
    ) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        tls = None
        if context is not None:
            tls = SSL.Connection(context, None)
            tls.set_connect_state()
            if verify_host:
                _expect_host(tls, host)
            if session is not None:
                # TLS 1.3 resumption (RFC 8446 section 2.2): psk_dhe_ke keeps a fresh X25519MLKEM768
                # exchange, so forward secrecy stays post-quantum, and skips the certificate
                # messages and the ML-DSA signature.
                tls.set_session(session)
        connection = cls(reader, writer, tls)
        if tls is not None:
            await connection._handshake()
        return connection

    async def _handshake(self) -> None:
        assert self.tls is not None
        while True:
            try:
                self.tls.do_handshake()
            except SSL.WantReadError:
                await self._flush()
                data = await self._reader.read(65536)
                if not data:
                    raise TransportError("server closed the connection during the TLS handshake") from None
                self.tls.bio_write(data)
                continue
            except SSL.Error as error:
                await self._flush()
                raise TransportError(f"TLS handshake failed: {error}") from error
            await self._flush()
            return

    async def _flush(self) -> None:
        assert self.tls is not None
        pending = []
        while True:
            try:
                pending.append(self.tls.bio_read(65536))
            except SSL.WantReadError:
                break
        if pending:
            self._writer.write(b"".join(pending))
            await self._writer.drain()

    async def send_bytes(self, data: bytes) -> None:
        if self.tls is None:
            self._writer.write(data)
            await self._writer.drain()
            return
        self.tls.sendall(data)
        await self._flush()

    async def receive_bytes(self) -> bytes:
        """The next plaintext bytes; b"" at end of stream."""
        if self.tls is None:
            return await self._reader.read(65536)
        while True:
            try:
                return self.tls.recv(65536)
            except SSL.WantReadError:
                data = await self._reader.read(65536)
                if not data:
                    return b""
                self.tls.bio_write(data)
            except SSL.ZeroReturnError:
                return b""
            except SSL.Error as error:
                raise TransportError(f"TLS error: {error}") from error

    async def send_request(self, request: HttpRequest, host: str, headers: dict[str, str]) -> None:
        fields = [("host", host), ("accept", request.accept), *headers.items()]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            fields += [("content-type", request.content_type), ("content-length", str(len(request.body)))]
        out = self.http.send(h11.Request(method=request.method, target=request.target, headers=fields))
        if request.body:
            out = (out or b"") + (self.http.send(h11.Data(data=request.body)) or b"")
        out = (out or b"") + (self.http.send(h11.EndOfMessage()) or b"")
        await self.send_bytes(out)

    async def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        while True:
            event = self.http.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.http.receive_data(await self.receive_bytes())

    def reusable(self) -> bool:
        if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self.http.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        if self.tls is not None:
            with contextlib.suppress(SSL.Error):
                self.tls.shutdown()
                self._writer.write(self.tls.bio_read(65536))
        self._writer.close()


class StreamedResponse:
    """A response whose body is read as it arrives (a followed log); it owns its connection."""

    def __init__(self, status: int, content_type: str, connection: _Connection) -> None:
        self.status = status
        self.content_type = content_type
        self._connection = connection

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk as the server sends it; the connection closes at the end."""
        try:
            while isinstance(event := await self._connection.next_event(), h11.Data):
                yield bytes(event.data)
        except (OSError, h11.ProtocolError) as error:
            raise TransportError(f"reading the response: {error}") from error
        finally:
            self._connection.close()

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def close(self) -> None:
        self._connection.close()


class PqTransport:
    """HTTP/1.1 keep-alive to one server over post-quantum TLS (or plain HTTP for `http://`)."""

    def __init__(
        self,
        server: str,
        tls: TlsClientSettings | None = None,
        *,
        headers: dict[str, str] | None = None,
        max_idle: int = 32,
        session_resumption: bool = True,
    ) -> None:
        parts = urlsplit(server)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._authority = parts.netloc
        self._context = client_context(tls or TlsClientSettings()) if parts.scheme == "https" else None
        self._verify_host = not (tls.insecure if tls else False)
        self._headers = {key.lower(): value for key, value in (headers or {}).items()}
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._resume = session_resumption
        self._session: SSL.Session | None = None

    async def connect(self) -> _Connection:
        try:
            return await _Connection.open(self._host, self._port, self._context, self._verify_host, self._session)
        except OSError as error:
            raise TransportError(f"connect to {self._authority}: {error}") from error

    async def send(self, request: HttpRequest) -> HttpResponse:
        for attempt in range(2):
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else await self.connect()
            try:
                return await self._exchange(connection, request)
            except (TransportError, OSError, h11.ProtocolError) as error:
                connection.close()
                # A pooled connection the server already closed fails at once: retry on a fresh one.
                if not reused or attempt == 1:
                    raise TransportError(f"{request.method} {request.path}: {error}") from error
        raise AssertionError("unreachable")

    async def _exchange(self, connection: _Connection, request: HttpRequest) -> HttpResponse:
        await connection.send_request(request, self._authority, self._headers)
        status, content_type, body = 0, "", bytearray()
        while True:
            event = await connection.next_event()
            if isinstance(event, h11.Response):
                status = event.status_code
                content_type = dict(event.headers).get(b"content-type", b"").decode("latin-1")
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise TransportError("connection closed before the response ended")
        self._keep_session(connection)
        if connection.reusable() and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()
        return HttpResponse(status, bytes(body), content_type)

    def _keep_session(self, connection: _Connection) -> None:
        """Remember the server's session ticket (sent after the handshake, so seen after a response)."""
        if self._resume and connection.tls is not None and self._session is None:
            self._session = connection.tls.get_session()

    async def remember_session(self, connection: _Connection) -> None:
        """Complete one small request on `connection` so its session ticket arrives, and keep it."""
        await connection.send_request(HttpRequest("GET", "/livez"), self._authority, self._headers)
        while not isinstance(await connection.next_event(), h11.EndOfMessage | h11.ConnectionClosed):
            pass
        self._keep_session(connection)

    async def open_stream(self, request: HttpRequest) -> StreamedResponse:
        """Send `request` on a connection of its own and return once the status line is in."""
        connection = await self.connect()
        try:
            await connection.send_request(request, self._authority, self._headers)
            event = await connection.next_event()
            while isinstance(event, h11.InformationalResponse):
                event = await connection.next_event()
        except (TransportError, OSError, h11.ProtocolError) as error:
            connection.close()
            raise TransportError(f"{request.method} {request.path}: {error}") from error
        if not isinstance(event, h11.Response):
            connection.close()
            raise TransportError(f"{request.method} {request.path}: no response")
        content_type = dict(event.headers).get(b"content-type", b"").decode("latin-1")
        return StreamedResponse(event.status_code, content_type, connection)

    async def stream_lines(self, request: HttpRequest) -> AsyncIterator[bytes]:
        response = await self.open_stream(request)
        if response.status >= 400:
            raise error_from(HttpResponse(response.status, await response.read()))
        buffer = b""
        try:
            async for chunk in response.chunks():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield line
        except TransportError as error:
            raise TransportError(f"{request.method} {request.path}: {error}") from error
        finally:
            response.close()
        if buffer.strip():
            yield buffer

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
