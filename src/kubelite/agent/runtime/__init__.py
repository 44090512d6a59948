"""Container runtimes (wasm, oci, process) behind the `ContainerRuntime` protocol."""
