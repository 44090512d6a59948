"""Controllers: ReplicaSet, Deployment, garbage collection, namespaces, node lifecycle.

Every controller is an API client that reads informer caches and writes through `ApiClient`, so it
runs unchanged against kubelite or a real Kubernetes cluster. The contract between a controller and
the controller-manager (`kubelite.controllers.manager`) is deliberately tiny:

- `Controller` (in `kubelite.controllers.base`): a `name` and `async run(workers, stop)`, which
  returns once `stop` is set. The manager has already started the shared informers and waited for
  their first list when it calls `run`.
- Each controller module exposes `new_controller(context: ControllerContext) -> Controller`; the
  constructor registers its informers and handlers through `context.informers` (one list-and-watch
  per resource per process) and records Events through `context.recorder`.
- `base.run_workers(queue, sync, workers, stop)` is the client-go worker loop: handlers only
  enqueue keys; workers call a level-triggered `sync(key)`, then `forget` the key on success or
  `add_rate_limited` it on failure.
"""
