"""Key-exchange groups and OpenSSL helpers shared by kubelite's TLS clients and servers.

Both sides run pyOpenSSL on the OpenSSL 4 that `cryptography` bundles (the stdlib `ssl` is OpenSSL
3.0, without ML-KEM). The group lists use OpenSSL's syntax; a server joins them as tuples
(`PQ / CLASSICAL`) so that a client offering any hybrid group gets one.
"""

from __future__ import annotations

from cryptography.hazmat.bindings.openssl.binding import Binding
from OpenSSL import SSL

#: The hybrid groups, best first (FIPS 203 ML-KEM-768 with X25519 or P-256, and P-384 with ML-KEM-1024).
PQ_GROUPS = "X25519MLKEM768:SecP256r1MLKEM768:SecP384r1MLKEM1024"
#: What a server still accepts from clients that offer no hybrid group.
CLASSICAL_GROUPS = "X25519:secp256r1:secp384r1"

_binding = Binding()
_lib, _ffi = _binding.lib, _binding.ffi


def set_groups(context: SSL.Context, groups: str) -> None:
    """Restrict a context's key-exchange groups (OpenSSL group-list syntax, tuples allowed)."""
    if _lib.SSL_CTX_set1_curves_list(context._context, groups.encode()) != 1:
        raise ValueError(f"OpenSSL rejected the group list {groups!r}")


def negotiated_group(connection: SSL.Connection) -> str:
    """The key-exchange group of a finished handshake, as OpenSSL names it ("X25519MLKEM768")."""
    name = connection.get_group_name()
    return name if name else "unknown"


def verify_error_text(errnum: int) -> str:
    """OpenSSL's words for an X509_V_ERR_* code ("certificate has expired")."""
    return str(_ffi.string(_lib.X509_verify_cert_error_string(errnum)).decode())
