"""kubelite's post-quantum TLS: group policy and server-side termination (pyOpenSSL on OpenSSL 4)."""
