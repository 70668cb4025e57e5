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


def get_strategy(name="default", devices=None, all_reduce=None, tpu_address=None):
    """A tf.distribute strategy.

    Args:
        name: one of STRATEGIES.
        devices: for one_device (the device) and mirrored (the devices; all
            local GPUs when None, else the CPU).
        all_reduce: mirrored: "nccl", "hierarchical_copy" or "reduce_to_one";
            multi_worker_mirrored: "auto", "ring" or "nccl". None: TF's default.
        tpu_address: tpu: the TPU name or grpc:// address ("" or "local" for a
            TPU VM's own chips).

    The cluster of multi_worker_mirrored and parameter_server comes from the
    TF_CONFIG environment variable.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; tfzoo knows {list(STRATEGIES)}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        device = (devices or [None])[0] or ("/gpu:0" if tf.config.list_logical_devices("GPU")
                                           else "/cpu:0")
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        cross_device_ops = None
        if all_reduce is not None:
            if all_reduce not in _CROSS_DEVICE_OPS:
                raise ValueError(f"mirrored all_reduce must be one of {sorted(_CROSS_DEVICE_OPS)}."
                                 f" Received: {all_reduce!r}")
            cross_device_ops = _CROSS_DEVICE_OPS[all_reduce]()
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross_device_ops)
    if name == "multi_worker_mirrored":
        _require_tf_config(name)
        implementation = _COLLECTIVES.get(all_reduce or "auto")
        if implementation is None:
            raise ValueError(f"multi_worker_mirrored all_reduce must be one of "
                             f"{sorted(_COLLECTIVES)}. Received: {all_reduce!r}")
        return tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                implementation=implementation))
    if name == "parameter_server":
        _require_tf_config(name)
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        return tf.distribute.experimental.ParameterServerStrategy(resolver)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu="" if tpu_address in (None, "local") else tpu_address)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _require_tf_config(name):
    if "TF_CONFIG" not in os.environ:
        raise ValueError(f"The {name} strategy reads its cluster from the TF_CONFIG environment "
                         "variable, which is not set. See the README's distribution section.")
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {os.environ['TF_CONFIG']!r}") from error


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
