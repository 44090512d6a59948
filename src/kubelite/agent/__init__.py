"""The node agent: runs WASM, OCI and process workloads and reports their status."""
