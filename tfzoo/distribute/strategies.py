"""Creating tf.distribute strategies by name.

Names: default, one_device, mirrored, multi_worker_mirrored, parameter_server,
tpu. Keras 3 `model.fit` works under default, one_device and mirrored; the
others go through `tfzoo.training.loop.Trainer` (keras#20585: fit is broken
under MultiWorkerMirroredStrategy; it does not support ParameterServerStrategy).
"""

import json
import os

import tensorflow as tf
from absl import logging

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker_mirrored",
              "parameter_server", "tpu")
FIT_STRATEGIES = ("default", "one_device", "mirrored")

_CROSS_DEVICE_OPS = {
    "nccl": lambda: tf.distribute.NcclAllReduce(),
    "hierarchical_copy": lambda: tf.distribute.HierarchicalCopyAllReduce(),
    "reduce_to_one": lambda: tf.distribute.ReductionToOneDevice(),
}
_COLLECTIVES = {
    "auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
    "ring": tf.distribute.experimental.CommunicationImplementation.RING,
    "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
}
# The all-reduce names each strategy takes; the others have none to choose.
ALL_REDUCE = {"mirrored": tuple(_CROSS_DEVICE_OPS), "multi_worker_mirrored": tuple(_COLLECTIVES)}
_TF_CONFIG_EXAMPLES = {
    "multi_worker_mirrored": ('{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
                              '"task": {"type": "worker", "index": 0}}'),
    "parameter_server": ('{"cluster": {"chief": ["host0:12345"], "worker": ["host1:12345"], '
                         '"ps": ["host2:12345"]}, "task": {"type": "chief", "index": 0}}'),
}


def get_strategy(name="default", devices=None, all_reduce=None, tpu_address=None):
    """A tf.distribute strategy.

    Args:
        name: one of STRATEGIES.
        devices: for one_device (the device: a string, or a list of one) and
            mirrored (the devices; all local GPUs when None, else the CPU).
        all_reduce: mirrored: "nccl", "hierarchical_copy" or "reduce_to_one";
            multi_worker_mirrored: "auto", "ring" or "nccl". None: TF's
            default. The other strategies have none to choose: any value is
            an error (see `check_all_reduce`).
        tpu_address: tpu: the TPU name or grpc:// address ("" or "local" for a
            TPU VM's own chips).

    The cluster of multi_worker_mirrored and parameter_server comes from the
    TF_CONFIG environment variable.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; tfzoo knows {list(STRATEGIES)}.")
    check_all_reduce(name, all_reduce)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        device = one_device(devices) or ("/gpu:0" if tf.config.list_logical_devices("GPU")
                                          else "/cpu:0")
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        cross_device_ops = None if all_reduce is None else _CROSS_DEVICE_OPS[all_reduce]()
        if isinstance(devices, str):  # one device, not its characters
            devices = [devices]
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross_device_ops)
    if name == "multi_worker_mirrored":
        check_tf_config(name)
        implementation = _COLLECTIVES[all_reduce or "auto"]
        return tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                implementation=implementation))
    if name == "parameter_server":
        check_tf_config(name)
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        return tf.distribute.experimental.ParameterServerStrategy(resolver)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu="" if tpu_address in (None, "local") else tpu_address)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def one_device(devices, key="devices"):
    """The device one_device runs on: `devices` as a string or a list of one
    (None when `devices` is None or empty: the strategy picks)."""
    if devices is None or isinstance(devices, str):
        return devices or None
    devices = list(devices)
    if len(devices) > 1:
        raise ValueError(f"The one_device strategy runs on one device; {key} names "
                         f"{len(devices)}: {devices!r}. Use the mirrored strategy for several.")
    return devices[0] if devices else None


def check_all_reduce(name, all_reduce, key="all_reduce"):
    """Raises ValueError unless the `name` strategy uses `all_reduce` (None,
    TF's default, always passes): a value a strategy would ignore is refused."""
    if all_reduce is None:
        return
    known = sorted(set().union(*ALL_REDUCE.values()))
    if all_reduce not in known:
        raise ValueError(f"{key} must be one of {known} or null. Received: {all_reduce!r}")
    accepted = ALL_REDUCE.get(name, ())
    if not accepted:
        raise ValueError(f"{key}={all_reduce!r} has no effect under the {name} strategy: only "
                         f"{' and '.join(ALL_REDUCE)} choose an all-reduce. Leave it null.")
    if all_reduce not in accepted:
        raise ValueError(f"{key}={all_reduce!r} is not an all-reduce of the {name} strategy, "
                         f"which takes {list(accepted)}.")


def check_tf_config(name):
    """The parsed TF_CONFIG environment variable, which must describe a
    cluster and this process's task in it; ValueError naming the bad part.

    TF reads an unset or malformed TF_CONFIG as "no cluster" and trains on
    this host alone, and reports a task without `index` as a TypeError.
    """
    raw = os.environ.get("TF_CONFIG")
    example = _TF_CONFIG_EXAMPLES[name]
    if raw is None:
        raise ValueError(f"The {name} strategy reads its cluster from the TF_CONFIG environment "
                         f"variable, which is not set. E.g. TF_CONFIG='{example}'; "
                         "see the README's distribution section.")
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {raw!r}") from error

    def bad(problem):
        return ValueError(f"TF_CONFIG {problem}. The {name} strategy needs a JSON object like "
                          f"{example}. Received TF_CONFIG={raw!r}")

    if not isinstance(config, dict):
        raise bad(f"must be a JSON object with `cluster` and `task`, not {type(config).__name__}")
    cluster = config.get("cluster")
    if not isinstance(cluster, dict) or not cluster:
        raise bad(f"`cluster` must be a non-empty object of job name -> list of addresses; "
                  f"it is {cluster!r}")
    for job, addresses in cluster.items():
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and a for a in addresses)):
            raise bad(f"cluster[{job!r}] must be a non-empty list of host:port strings; "
                      f"it is {addresses!r}")
    if name == "parameter_server":
        missing = [job for job in ("worker", "ps") if job not in cluster]
        if missing:
            raise bad(f"`cluster` has no {' or '.join(missing)} job (jobs: {sorted(cluster)})")
    task = config.get("task")
    if not isinstance(task, dict):
        raise bad(f"`task` must be an object with `type` and `index`; it is {task!r}")
    task_type, index = task.get("type"), task.get("index")
    if not isinstance(task_type, str) or task_type not in cluster:
        raise bad(f"task.type must be one of the cluster's jobs {sorted(cluster)}; "
                  f"it is {task_type!r}")
    count = len(cluster[task_type])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise bad(f"task.index must be an integer from 0 to {count - 1} (the {task_type} job "
                  f"has {count} task(s)); it is {index!r}")
    return config


def check_global_batch_size(global_batch_size, strategy, key="global_batch_size"):
    """Raises ValueError unless the global batch splits evenly across replicas."""
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(f"The global batch size ({key}={global_batch_size}) must be divisible "
                         f"by the number of replicas ({replicas}).")


def is_chief(strategy):
    """Whether this process writes checkpoints and exports.

    Every worker must call save (collectives need them all); only the chief's
    writes go to the real paths (see `write_path`).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    # Without a chief job, worker 0 is the chief.
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def write_path(path, strategy):
    """`path` for the chief; a per-worker scratch directory for the others."""
    if is_chief(strategy):
        return path
    resolver = strategy.cluster_resolver
    scratch = os.path.join(os.path.dirname(path.rstrip("/")), ".workers",
                           f"{resolver.task_type}_{resolver.task_id}",
                           os.path.basename(path.rstrip("/")))
    logging.info("Not the chief: writing to scratch %s", scratch)
    return scratch
