"""KubeSchedulerConfiguration profiles: enabling, disabling, weights and scoring strategy."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.scheduler.plugins.node_resources import NodeResourcesFit
from kubelite.scheduler.profiles import DEFAULT_PLUGINS, build_framework, load_configuration

CONFIG = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
  - schedulerName: bin-packing
    plugins:
      score:
        disabled: [{name: NodeResourcesBalancedAllocation}]
        enabled: [{name: NodeResourcesFit, weight: 5}]
      filter:
        disabled: [{name: PodTopologySpread}]
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources: [{name: cpu, weight: 2}, {name: memory, weight: 1}]
"""


def test_configuration_file_builds_named_profiles(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    default, packing = load_configuration(path)
    assert default.plugins == DEFAULT_PLUGINS
    assert packing.scheduler_name == "bin-packing"
    assert "PodTopologySpread" not in packing.plugins
    assert (
        packing.weights["NodeResourcesBalancedAllocation"] == 0 and packing.weights["NodeResourcesFit"] == 5
    )
    framework = build_framework(packing)
    fit = framework.plugin("NodeResourcesFit")
    assert isinstance(fit, NodeResourcesFit) and fit.strategy == "MostAllocated"
    assert [r.weight for r in fit.resources] == [2, 1]


def test_scheduler_name_renames_a_single_profile() -> None:
    (profile,) = load_configuration(None, "second-scheduler")
    assert profile.scheduler_name == "second-scheduler"


def test_unknown_plugin_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("profiles: [{plugins: {filter: {enabled: [{name: NoSuchPlugin}]}}}]")
    with pytest.raises(ValueError, match="NoSuchPlugin"):
        load_configuration(path)
