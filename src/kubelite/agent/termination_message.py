"""A terminated container's message (`state.terminated.message`), found as the kubelet finds it.

- `terminationMessagePath` (default /dev/termination-log): for oci containers the agent bind-mounts
  a file of the attempt's state directory there (`termination_mount`), and whatever the container
  wrote to it (at most 4096 bytes) is the message. Process and wasm containers have no file system
  of their own to give the path a meaning, so only the policy below applies to them.
- `terminationMessagePolicy: FallbackToLogsOnError`: a container that failed and wrote no message
  gets the tail of its log instead (the last 80 lines, at most 2048 bytes), as the kubelet does.
A message the runtime set itself (a wasm trap, say) is kept.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kubelite.agent.runtime.interface import ContainerExit, Mount
from kubelite.agent.runtime.process import CONTAINER_LOG_NAME
from kubelite.api.models.container import Container

DEFAULT_PATH = "/dev/termination-log"
MESSAGE_FILE_NAME = "termination-log"
MAX_MESSAGE_BYTES = 4096
FALLBACK_LINES = 80
FALLBACK_BYTES = 2048


def termination_mount(container: Container, state_dir: Path) -> Mount:
    """The host file an oci container's terminationMessagePath is bound to (created empty)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    host_file = state_dir / MESSAGE_FILE_NAME
    host_file.touch()
    return Mount(host_file, container.termination_message_path or DEFAULT_PATH, read_only=False)


def _read_head(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode(errors="replace")
    except FileNotFoundError:
        return ""


def _log_tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    tail = b"".join(data.splitlines(keepends=True)[-FALLBACK_LINES:])[-FALLBACK_BYTES:]
    return tail.decode(errors="replace")


def with_termination_message(container: Container, exit: ContainerExit, state_dir: Path) -> ContainerExit:
    """`exit` with the message the container left, by its policy (see the module docstring)."""
    if exit.message:
        return exit
    message = _read_head(state_dir / MESSAGE_FILE_NAME, MAX_MESSAGE_BYTES)
    if not message and container.termination_message_policy == "FallbackToLogsOnError" and exit.exit_code != 0:
        message = _log_tail(state_dir / CONTAINER_LOG_NAME)
    return dataclasses.replace(exit, message=message) if message else exit
