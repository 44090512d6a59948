"""Controller references: who owns a pod or ReplicaSet, and the adopt/release decisions.

After `pkg/controller/controller_ref_manager.go`: a controller claims the objects that carry
its controller reference and still match its selector, adopts orphans that match (unless it is
being deleted, or the orphan is), and releases owned objects that no longer match. Objects that
another controller owns are never touched. `decide_claim` is the pure decision; the patches it
implies are built by `adoption_patch` and `release_patch` (strategic merge patches keyed by the
owner reference's uid, guarded by the dependent's uid so that a recreated object is not hit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.api.labels import Selector
from kubelite.api.resources import ResourceType
from kubelite.client.client import ApiClient
from kubelite.client.errors import ApiError
from kubelite.client.informers import BY_OWNER_UID, Lister, SharedInformerFactory, object_key

JSONObject = dict[str, Any]
ClaimDecision = Literal["claim", "adopt", "release", "ignore"]
ORPHANS_BY_NAMESPACE = "orphans-by-namespace"


@dataclass(frozen=True, slots=True)
class OwnerIdentity:
    """The controller object's coordinates, as written into an ownerReference."""

    api_version: str
    kind: str
    name: str
    uid: str

    def owner_reference(self) -> JSONObject:
        """A controller reference that blocks the owner's foreground deletion."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with `controller: true`, if any (metav1.GetControllerOf)."""
    for reference in _meta(obj).get("ownerReferences") or []:
        if isinstance(reference, Mapping) and reference.get("controller") is True:
            return reference
    return None


def owner_identity(obj: Mapping[str, Any], api_version: str, kind: str) -> OwnerIdentity:
    meta = _meta(obj)
    return OwnerIdentity(api_version, kind, str(meta.get("name") or ""), str(meta.get("uid") or ""))


def decide_claim(
    owner: Mapping[str, Any], owner_uid: str, selector: Selector, dependent: Mapping[str, Any]
) -> ClaimDecision:
    """What the owner does with one dependent in its namespace (ClaimObject)."""
    reference = controller_of(dependent)
    labels = _meta(dependent).get("labels") or {}
    owner_deleting = bool(_meta(owner).get("deletionTimestamp"))
    if reference is not None:
        if reference.get("uid") != owner_uid:
            return "ignore"
        if selector.matches(labels):
            return "claim"
        # An owner being deleted keeps its dependents so that the garbage collector finds them.
        return "ignore" if owner_deleting else "release"
    if owner_deleting or not selector.matches(labels) or _meta(dependent).get("deletionTimestamp"):
        return "ignore"
    return "adopt"


def adoption_patch(owner: OwnerIdentity, dependent_uid: str) -> JSONObject:
    return {"metadata": {"ownerReferences": [owner.owner_reference()], "uid": dependent_uid}}


def release_patch(owner_uid: str, dependent_uid: str) -> JSONObject:
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": dependent_uid}}


def index_orphans(obj: JSONObject) -> Iterable[str]:
    """Objects without a controller, by namespace: the only candidates for adoption."""
    namespace = (obj.get("metadata") or {}).get("namespace")
    return (str(namespace),) if namespace and controller_of(obj) is None else ()


def ensure_orphan_index(factory: SharedInformerFactory, resource: ResourceType) -> None:
    informer = factory.informer(resource)
    try:
        informer.lister.by_index(ORPHANS_BY_NAMESPACE, "")
    except KeyError:
        informer.add_indexer(ORPHANS_BY_NAMESPACE, index_orphans)


def candidates_for(lister: Lister, owner: Mapping[str, Any]) -> list[JSONObject]:
    """Objects the owner may claim: those referencing its uid plus the orphans in its namespace."""
    meta = owner.get("metadata") or {}
    seen: dict[str, JSONObject] = {}
    for obj in lister.by_index(BY_OWNER_UID, str(meta.get("uid") or "")):
        seen[object_key(obj)] = obj
    for obj in lister.by_index(ORPHANS_BY_NAMESPACE, str(meta.get("namespace") or "")):
        seen.setdefault(object_key(obj), obj)
    return list(seen.values())


async def claim(
    client: ApiClient,
    resource: ResourceType,
    owner: JSONObject,
    identity: OwnerIdentity,
    selector: Selector,
    candidates: Iterable[JSONObject],
    recheck_owner: Callable[[], Awaitable[bool]],
) -> list[JSONObject]:
    """ClaimPods / ClaimReplicaSets: the candidates the owner controls after adopting and releasing."""
    claimed: list[JSONObject] = []
    may_adopt: bool | None = None
    for dependent in candidates:
        decision = decide_claim(owner, identity.uid, selector, dependent)
        meta = dependent.get("metadata") or {}
        name, namespace, uid = str(meta.get("name")), str(meta.get("namespace")), str(meta.get("uid"))
        if decision == "claim":
            claimed.append(dependent)
        elif decision == "adopt":
            if may_adopt is None:
                # Re-read the owner from the server: a cached owner may already be deleted.
                may_adopt = await recheck_owner()
            if not may_adopt:
                continue
            try:
                adopted = await client.patch(
                    resource, name, adoption_patch(identity, uid), namespace, patch_type="strategic"
                )
            except ApiError as error:
                if error.code in (404, 422):
                    continue
                raise
            claimed.append(adopted)
        elif decision == "release":
            try:
                await client.patch(
                    resource, name, release_patch(identity.uid, uid), namespace, patch_type="strategic"
                )
            except ApiError as error:
                if error.code not in (404, 422):
                    raise
    return claimed
