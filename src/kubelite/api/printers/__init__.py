"""Server-side Table printing (`kubectl get`): `print_table` returns column definitions and cells.

The API server answers `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` with a Table whose
columnDefinitions and rows[].cells come from here, the same columns Kubernetes' printers emit.
Wide-only columns carry priority 1; kubectl hides them unless `-o wide`. Without `wide`, they are
still returned (as Kubernetes does) so that the client decides; pass wide=False to drop them.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.printers import others, security, workloads
from kubelite.api.printers.common import AGE_COLUMN, NAME_COLUMN, JSONObject, age_of, human_duration, name_of
from kubelite.api.printers.pods import NODE_COLUMNS, POD_COLUMNS, node_row, pod_row
from kubelite.api.resources import ResourceType

_PRINTERS: dict[str, tuple[list[JSONObject], others.Row]] = {
    "pods": (POD_COLUMNS, pod_row),
    "nodes": (NODE_COLUMNS, node_row),
    "namespaces": (others.NAMESPACE_COLUMNS, others.namespace_row),
    "events": (others.EVENT_COLUMNS, others.event_row),
    "configmaps": (others.CONFIG_MAP_COLUMNS, others.config_map_row),
    "secrets": (others.SECRET_COLUMNS, others.secret_row),
    "services": (others.SERVICE_COLUMNS, others.service_row),
    "endpoints": (others.ENDPOINTS_COLUMNS, others.endpoints_row),
    "serviceaccounts": (others.SERVICE_ACCOUNT_COLUMNS, others.service_account_row),
    "leases.coordination.k8s.io": (others.LEASE_COLUMNS, others.lease_row),
    "deployments.apps": (workloads.DEPLOYMENT_COLUMNS, workloads.deployment_row),
    "replicasets.apps": (workloads.REPLICASET_COLUMNS, workloads.replicaset_row),
    "horizontalpodautoscalers.autoscaling": (workloads.HPA_COLUMNS, workloads.hpa_row),
    "priorityclasses.scheduling.k8s.io": (others.PRIORITY_CLASS_COLUMNS, others.priority_class_row),
    "runtimeclasses.node.k8s.io": (others.RUNTIME_CLASS_COLUMNS, others.runtime_class_row),
    "roles.rbac.authorization.k8s.io": (security.ROLE_COLUMNS, security.role_row),
    "clusterroles.rbac.authorization.k8s.io": (security.ROLE_COLUMNS, security.role_row),
    "rolebindings.rbac.authorization.k8s.io": (security.BINDING_COLUMNS, security.binding_row),
    "clusterrolebindings.rbac.authorization.k8s.io": (security.BINDING_COLUMNS, security.binding_row),
    "certificatesigningrequests.certificates.k8s.io": (security.CSR_COLUMNS, security.csr_row),
}


def _default_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), age_of(obj, now)]


def print_table(
    resource: ResourceType, objs: list[dict[str, Any]], now: float, wide: bool = True
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Column definitions and one row of cells per object; `now` is epoch seconds for AGE."""
    columns, row = _PRINTERS.get(resource.key, ([NAME_COLUMN, AGE_COLUMN], _default_row))
    keep = [index for index, definition in enumerate(columns) if wide or definition["priority"] == 0]
    rows = []
    for obj in objs:
        cells = row(obj, now)
        rows.append([cells[index] for index in keep])
    return [dict(columns[index]) for index in keep], rows


__all__ = ["human_duration", "print_table"]
