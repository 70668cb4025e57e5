"""tf.distribute strategies: one device, all GPUs of a host, several hosts, TPUs."""

from tfzoo.distribute.strategies import (
    ALL_REDUCE,
    FIT_STRATEGIES,
    STRATEGIES,
    check_all_reduce,
    check_global_batch_size,
    check_tf_config,
    get_strategy,
    is_chief,
    one_device,
    write_path,
)

__all__ = ["ALL_REDUCE", "FIT_STRATEGIES", "STRATEGIES", "check_all_reduce",
           "check_global_batch_size", "check_tf_config", "get_strategy", "is_chief",
           "one_device", "write_path"]
