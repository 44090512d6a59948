"""The official `kubernetes` Python client against a real `kubelite up`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from .cluster import RunningCluster


@pytest.fixture(scope="module")
def api(cluster: RunningCluster) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api_client
    api_client.close()


def _pod(name: str, labels: dict[str, str] | None = None, scheduler_name: str | None = None) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1PodSpec(
            scheduler_name=scheduler_name,
            containers=[
                client.V1Container(
                    name="c",
                    image="busybox",
                    resources=client.V1ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
                )
            ],
        ),
    )


def test_pod_crud_with_defaults(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_pod("default", _pod("one", {"app": "a"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.status.phase == "Pending" and created.status.qos_class == "Burstable"
    assert created.spec.restart_policy == "Always" and created.spec.scheduler_name == "default-scheduler"
    assert {t.key for t in created.spec.tolerations} >= {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    }
    fetched = core.read_namespaced_pod("one", "default")
    assert fetched.metadata.uid == created.metadata.uid
    labelled = core.list_namespaced_pod("default", label_selector="app=a")
    assert [p.metadata.name for p in labelled.items] == ["one"]
    core.patch_namespaced_pod("one", "default", {"metadata": {"labels": {"extra": "yes"}}})
    assert core.read_namespaced_pod("one", "default").metadata.labels == {"app": "a", "extra": "yes"}
    core.delete_namespaced_pod("one", "default")
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod("one", "default")
    assert error.value.status == 404


def test_generate_name_and_paging(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="paging")))
    for _ in range(7):
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="page-"), data={"k": "v"})
        created = core.create_namespaced_config_map("paging", body)
        assert created.metadata.name.startswith("page-") and len(created.metadata.name) == len("page-") + 5
    names: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map("paging", limit=3, _continue=token)
        names.extend(item.metadata.name for item in page.items)
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert pages == 3 and len(names) == 7 and names == sorted(names)


def test_watch_sees_adds_modifies_and_deletes(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="watching")))
    seen: list[tuple[str, str]] = []
    start = threading.Event()

    def follow() -> None:
        stream = watch.Watch()
        start.set()
        for event in stream.stream(core.list_namespaced_config_map, "watching", timeout_seconds=5):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()

    thread = threading.Thread(target=follow)
    thread.start()
    start.wait()
    time.sleep(0.5)
    core.create_namespaced_config_map(
        "watching", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w"), data={"a": "1"})
    )
    core.patch_namespaced_config_map("w", "watching", {"data": {"a": "2"}})
    core.delete_namespaced_config_map("w", "watching")
    thread.join(timeout=10)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_deployment_scale_subresource(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": "s"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="scaled"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "s"}),
            template=template,
            paused=True,
        ),
    )
    created = apps.create_namespaced_deployment("default", body)
    assert created.spec.strategy.type == "RollingUpdate" and created.spec.revision_history_limit == 10
    scale = apps.read_namespaced_deployment_scale("scaled", "default")
    assert scale.spec.replicas == 1 and scale.status.selector == "app=s"
    apps.patch_namespaced_deployment_scale("scaled", "default", {"spec": {"replicas": 4}})
    after = apps.read_namespaced_deployment("scaled", "default")
    assert after.spec.replicas == 4 and after.metadata.generation == 2


def test_status_subresource_is_the_only_way_to_write_status(api: client.ApiClient) -> None:
    # Services' status has no controller here, so what the test writes is what it reads.
    core = client.CoreV1Api(api)
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="lb"),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)], selector={"app": "lb"}),
    )
    core.create_namespaced_service("default", service)
    ingress = {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}}
    core.patch_namespaced_service_status("lb", "default", ingress)
    assert (
        core.read_namespaced_service_status("lb", "default").status.load_balancer.ingress[0].ip
        == "192.0.2.10"
    )
    # Status written through the main resource is ignored, as in Kubernetes.
    core.patch_namespaced_service(
        "lb", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.99"}]}}}
    )
    assert core.read_namespaced_service("lb", "default").status.load_balancer.ingress[0].ip == "192.0.2.10"


def test_finalizers_hold_deletion_until_removed(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="held", finalizers=["example.com/hold"]))
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("held", "default")
    marked = core.read_namespaced_config_map("held", "default")
    assert marked.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("held", "default")
    assert error.value.status == 404


def test_binding_assigns_a_node_once(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    # A scheduler name no scheduler serves, so that this test is the only binder.
    core.create_namespaced_pod("default", _pod("bindme", scheduler_name="manual"))
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name="bindme"),
        target=client.V1ObjectReference(kind="Node", name="node-1"),
    )
    core.create_namespaced_binding("default", binding, _preload_content=False)
    pod = core.read_namespaced_pod("bindme", "default")
    assert pod.spec.node_name == "node-1"
    assert any(c.type == "PodScheduled" and c.status == "True" for c in pod.status.conditions)
    with pytest.raises(ApiException) as error:
        core.create_namespaced_binding("default", binding, _preload_content=False)
    assert error.value.status == 409
    # A bound pod terminates gracefully: it is marked, not removed, until its node confirms.
    core.delete_namespaced_pod("bindme", "default")
    assert core.read_namespaced_pod("bindme", "default").metadata.deletion_timestamp is not None
    core.delete_namespaced_pod("bindme", "default", grace_period_seconds=0)
    with pytest.raises(ApiException):
        core.read_namespaced_pod("bindme", "default")


def test_namespace_deletion_enters_terminating_and_refuses_new_objects(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="closing")))
    # A finalizer holds the content (and so the namespace) while the test looks at it.
    held = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="held", finalizers=["example.com/hold"]))
    core.create_namespaced_config_map("closing", held)
    core.delete_namespace("closing")
    namespace = core.read_namespace("closing")
    assert namespace.status.phase == "Terminating"
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(
            "closing", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="late"))
        )
    assert error.value.status == 403
    core.patch_namespaced_config_map("held", "closing", {"metadata": {"finalizers": None}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            core.read_namespace("closing")
        except ApiException as gone:
            assert gone.status == 404
            return
        time.sleep(0.2)
    pytest.fail("the namespace was not removed once its content was gone")


def test_secret_string_data_is_stored_as_data(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="db"), string_data={"password": "s3cret"}, data={"user": "YWRtaW4="}
    )
    created = core.create_namespaced_secret("default", body)
    assert created.data == {"user": "YWRtaW4=", "password": "czNjcmV0"} and created.string_data is None
    read = core.read_namespaced_secret("db", "default")
    assert read.data == {"user": "YWRtaW4=", "password": "czNjcmV0"}
