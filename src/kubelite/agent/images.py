"""The agent's local image store: rootfs images for runc and WASM modules, imported, never pulled.

There is no registry: `kubelite image import SOURCE NAME:TAG` fills the store from
- a rootfs tarball (`tar -C rootfs -czf app.tar.gz .`), unpacked as the image's root filesystem;
- an OCI image layout, as a directory or a tar of one (what `skopeo copy ... oci:DIR` or
  `docker buildx --output type=oci` produce): the manifest's layers are applied in order, with
  whiteouts (`.wh.NAME`, `.wh..wh..opq`) honoured as in the OCI image-spec's layer rules, and the
  config's Env, Entrypoint, Cmd and WorkingDir kept as the image defaults;
- a `.wasm` or `.wat` module, kept as a file for the wasm runtime.
Layout on disk: `<root>/index.json` maps each normalised reference to an `ImageRecord`, and each
image's content lives under `<root>/blobs/<id>/` (`rootfs/` or `module.wasm|wat`). Tar members are
extracted with the standard library's "tar" filter, which refuses paths that escape the destination.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

ImageKind = Literal["rootfs", "wasm"]
WASM_SUFFIXES = (".wasm", ".wat")


@dataclass(frozen=True)
class ImageRecord:
    """One imported image."""

    reference: str
    kind: ImageKind
    content_path: str
    digest: str
    imported_at: float
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    size_bytes: int = 0


@dataclass(frozen=True)
class ImportFailure:
    reference: str
    message: str


@dataclass
class _ImageConfig:
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    layers: list[Path] = field(default_factory=list)


def normalise_reference(reference: str) -> str:
    """`busybox` -> `busybox:latest`; a digest or explicit tag is kept."""
    last_component = reference.rsplit("/", 1)[-1]
    return reference if (":" in last_component or "@" in reference) else f"{reference}:latest"


def default_store_root() -> Path:
    return Path.home() / ".local" / "share" / "kubelite" / "images"


class ImageStore:
    """The images imported on this host (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # The parsed index and the identity of the file it came from: a container start costs one
        # stat, not a read and parse. The index is replaced atomically (new inode) by every write,
        # including `kubelite image import` in another process, so a changed file is always seen.
        self._cached: tuple[tuple[int, int, int], dict[str, ImageRecord]] | None = None

    def list(self) -> list[ImageRecord]:
        return sorted(self._read_index().values(), key=lambda record: record.reference)

    def lookup(self, reference: str) -> ImageRecord | None:
        return self._read_index().get(normalise_reference(reference))

    def content_path(self, reference: str, kind: ImageKind) -> Path | None:
        """The rootfs directory or module file of an image of the given kind, if imported."""
        record = self.lookup(reference)
        return Path(record.content_path) if record is not None and record.kind == kind else None

    def import_image(self, source: Path, reference: str) -> ImageRecord | ImportFailure:
        reference = normalise_reference(reference)
        if not source.exists():
            return ImportFailure(reference, f"{source} does not exist")
        blob_dir = self.root / "blobs" / hashlib.sha256(reference.encode()).hexdigest()[:24]
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=self._ensure_root()))
        try:
            if source.is_file() and source.suffix in WASM_SUFFIXES:
                target = staging / f"module{source.suffix}"
                shutil.copyfile(source, target)
                record_kind: ImageKind = "wasm"
                config = _ImageConfig()
            else:
                record_kind = "rootfs"
                outcome = _unpack_rootfs(source, staging)
                if isinstance(outcome, str):
                    return ImportFailure(reference, outcome)
                config = outcome
                target = staging / "rootfs"
            digest = _digest(source)
            if blob_dir.exists():
                shutil.rmtree(blob_dir)
            blob_dir.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(blob_dir)
        except (OSError, tarfile.TarError, ValueError, KeyError) as error:
            return ImportFailure(reference, f"cannot import {source}: {error}")
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        content = blob_dir / target.name
        record = ImageRecord(
            reference=reference,
            kind=record_kind,
            content_path=str(content),
            digest=digest,
            imported_at=time.time(),
            env=config.env,
            entrypoint=config.entrypoint,
            cmd=config.cmd,
            working_dir=config.working_dir,
            size_bytes=_tree_size(content),
        )
        index = self._read_index()
        index[reference] = record
        self._write_index(index)
        return record

    def remove(self, reference: str) -> bool:
        index = self._read_index()
        record = index.pop(normalise_reference(reference), None)
        if record is None:
            return False
        shutil.rmtree(Path(record.content_path).parent, ignore_errors=True)
        self._write_index(index)
        return True

    def _ensure_root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def _read_index(self) -> dict[str, ImageRecord]:
        """A copy of the index (callers may change it before `_write_index`)."""
        path = self.root / "index.json"
        try:
            status = path.stat()
            identity = (status.st_ino, status.st_mtime_ns, status.st_size)
            if self._cached is not None and self._cached[0] == identity:
                return dict(self._cached[1])
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        records: dict[str, ImageRecord] = {}
        for reference, fields in raw.items():
            for sequence in ("env", "entrypoint", "cmd"):
                fields[sequence] = tuple(fields.get(sequence, ()))
            records[reference] = ImageRecord(**fields)
        self._cached = (identity, records)
        return dict(records)

    def _write_index(self, index: dict[str, ImageRecord]) -> None:
        partial = self._ensure_root() / "index.json.partial"
        partial.write_text(json.dumps({ref: asdict(record) for ref, record in index.items()}, indent=1))
        partial.replace(self.root / "index.json")


def _unpack_rootfs(source: Path, staging: Path) -> _ImageConfig | str:
    rootfs = staging / "rootfs"
    rootfs.mkdir()
    if source.is_dir():
        if not (source / "oci-layout").exists():
            return f"{source} is a directory but not an OCI image layout (no oci-layout file)"
        return _apply_oci_layout(source, rootfs)
    with tarfile.open(source) as archive:
        names = set(archive.getnames())
        if "oci-layout" in names or "./oci-layout" in names:
            layout = staging / "layout"
            archive.extractall(layout, filter="tar")
            config = _apply_oci_layout(layout, rootfs)
            shutil.rmtree(layout)
            return config
        archive.extractall(rootfs, filter="tar")
    return _ImageConfig()


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, value = digest.partition(":")
    return layout / "blobs" / algorithm / value


def _apply_oci_layout(layout: Path, rootfs: Path) -> _ImageConfig | str:
    index = json.loads((layout / "index.json").read_text())
    manifests = index.get("manifests", [])
    if not manifests:
        return "the OCI layout's index.json lists no manifests"
    manifest = json.loads(_blob(layout, manifests[0]["digest"]).read_text())
    if "manifests" in manifest:  # an image index: take its first (or only) platform
        manifest = json.loads(_blob(layout, manifest["manifests"][0]["digest"]).read_text())
    image_config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text()).get("config", {})
    for layer in manifest.get("layers", []):
        _apply_layer(_blob(layout, layer["digest"]), rootfs)
    return _ImageConfig(
        env=tuple(image_config.get("Env") or ()),
        entrypoint=tuple(image_config.get("Entrypoint") or ()),
        cmd=tuple(image_config.get("Cmd") or ()),
        working_dir=image_config.get("WorkingDir") or "",
    )


def _apply_layer(layer: Path, rootfs: Path) -> None:
    with layer.open("rb") as head:
        compressed = head.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(layer, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            path = Path(member.name)
            if path.name == ".wh..wh..opq":
                opaque_dir = rootfs / path.parent
                if opaque_dir.is_dir():
                    for child in opaque_dir.iterdir():
                        _remove(child)
                continue
            if path.name.startswith(".wh."):
                _remove(rootfs / path.parent / path.name[len(".wh.") :])
                continue
            archive.extract(member, rootfs, filter="tar")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _digest(source: Path) -> str:
    hasher = hashlib.sha256()
    if source.is_dir():
        index = source / "index.json"
        hasher.update(index.read_bytes() if index.exists() else str(source).encode())
    else:
        with source.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                hasher.update(chunk)
    return f"sha256:{hasher.hexdigest()}"


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.lstat().st_size for item in path.rglob("*"))
