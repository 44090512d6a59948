"""The local image store: rootfs tarballs, OCI layouts with whiteouts, wasm modules."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from kubelite.agent.images import ImageRecord, ImageStore, ImportFailure, normalise_reference

from .conftest import MODULES


def _tar(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _write_blob(layout: Path, content: bytes) -> dict[str, object]:
    digest = hashlib.sha256(content).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(content)
    return {"digest": f"sha256:{digest}", "size": len(content)}


def make_oci_layout(layout: Path) -> None:
    """Two layers: the second deletes one file (whiteout) and replaces a directory (opaque)."""
    layout.mkdir()
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    lower = _tar({"etc/keep": b"kept", "etc/gone": b"x", "data/old": b"old"})
    upper = _tar({"etc/.wh.gone": b"", "data/.wh..wh..opq": b"", "data/new": b"new"})
    config = json.dumps({"config": {"Env": ["MODE=oci"], "Cmd": ["sh"], "WorkingDir": "/srv"}}).encode()
    manifest = json.dumps(
        {
            "config": _write_blob(layout, config),
            "layers": [_write_blob(layout, lower), _write_blob(layout, upper)],
        }
    ).encode()
    (layout / "index.json").write_text(json.dumps({"manifests": [_write_blob(layout, manifest)]}))


@pytest.mark.parametrize(
    ("reference", "normalised"),
    [
        ("busybox", "busybox:latest"),
        ("busybox:1.36", "busybox:1.36"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
    ids=["bare", "tagged", "registry-port"],
)
def test_reference_normalisation(reference: str, normalised: str) -> None:
    assert normalise_reference(reference) == normalised


def test_rootfs_tarball_import(tmp_path: Path, busybox_tarball: Path) -> None:
    store = ImageStore(tmp_path / "images")
    record = store.import_image(busybox_tarball, "busybox")
    assert isinstance(record, ImageRecord)
    assert (Path(record.content_path) / "bin" / "busybox").is_file()
    assert (Path(record.content_path) / "bin" / "sh").is_symlink()
    assert [image.reference for image in store.list()] == ["busybox:latest"]


@pytest.mark.parametrize("as_tar", [False, True], ids=["directory", "tarball"])
def test_oci_layout_import_applies_layers_and_config(tmp_path: Path, as_tar: bool) -> None:
    make_oci_layout(tmp_path / "layout")
    source = tmp_path / "layout"
    if as_tar:
        source = tmp_path / "layout.tar"
        with tarfile.open(source, "w") as archive:
            archive.add(tmp_path / "layout", arcname=".")
    record = ImageStore(tmp_path / "images").import_image(source, "app:v1")
    assert isinstance(record, ImageRecord)
    rootfs = Path(record.content_path)
    assert (rootfs / "etc" / "keep").read_text() == "kept"
    assert not (rootfs / "etc" / "gone").exists()
    assert sorted(path.name for path in (rootfs / "data").iterdir()) == ["new"]
    assert (record.env, record.cmd, record.working_dir) == (("MODE=oci",), ("sh",), "/srv")


def test_wasm_module_import_resolves_by_name(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    record = store.import_image(MODULES / "echo.wat", "echo:v1")
    assert isinstance(record, ImageRecord) and record.kind == "wasm"
    module = store.content_path("echo:v1", "wasm")
    assert module is not None and module.read_bytes() == (MODULES / "echo.wat").read_bytes()
    assert store.content_path("echo:v1", "rootfs") is None


@pytest.mark.parametrize(
    "entries",
    [{"../escape": b"x"}, {"/etc/absolute-escape/../../../x": b"x"}],
    ids=["relative-escape", "absolute-escape"],
)
def test_tarballs_cannot_write_outside_the_store(tmp_path: Path, entries: dict[str, bytes]) -> None:
    tarball = tmp_path / "evil.tar.gz"
    tarball.write_bytes(_tar(entries))
    outcome = ImageStore(tmp_path / "images").import_image(tarball, "evil")
    assert isinstance(outcome, ImportFailure)
    assert not (tmp_path / "escape").exists()


def test_remove_and_missing_sources(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    assert isinstance(store.import_image(tmp_path / "absent.tar", "x"), ImportFailure)
    store.import_image(MODULES / "spin.wat", "spin")
    assert store.remove("spin") and store.lookup("spin") is None and not store.remove("spin")


def test_a_running_agent_sees_images_imported_by_another_process(tmp_path: Path) -> None:
    agent_view, importer = ImageStore(tmp_path), ImageStore(tmp_path)  # two processes' stores
    assert agent_view.lookup("echo:v1") is None
    importer.import_image(MODULES / "echo.wat", "echo:v1")
    assert agent_view.lookup("echo:v1") is not None  # the cached index noticed the new file
    importer.remove("echo:v1")
    assert agent_view.lookup("echo:v1") is None
