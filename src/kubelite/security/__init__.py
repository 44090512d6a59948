"""Security: certificates, tokens, RBAC and post-quantum TLS."""
