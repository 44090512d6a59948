"""Replaying the Alibaba OpenB GPU trace through kubelite's scheduler (the FGD paper's method).

- `trace`: reading the node and pod CSVs, and building one seed's arrival sequence (shuffled,
  inflated to 130% of cluster GPU capacity, never deleted).
- `runner`: placing the pods one at a time, in arrival order, with a chosen policy.
- `metrics`: the unallocated-GPU percentage as arrived demand passes 90..130% of capacity.
- `bound`: the lower bound on that percentage that packing GPU shares imposes on any policy.
- `variants`: synthetic variants (more sharing, multi-GPU or model-constrained pods).

Trace: Weng et al., "Beware of Fragmentation" (USENIX ATC 2023), data from
github.com/hkust-adsl/kubernetes-scheduler-simulator (Apache-2.0), identical to Alibaba
clusterdata cluster-trace-gpu-v2023.
"""
