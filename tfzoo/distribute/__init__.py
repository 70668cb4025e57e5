"""tf.distribute strategies: one device, all GPUs of a host, several hosts, TPUs."""

from tfzoo.distribute.strategies import (
    FIT_STRATEGIES,
    STRATEGIES,
    get_strategy,
    is_chief,
    write_path,
)

__all__ = ["FIT_STRATEGIES", "STRATEGIES", "get_strategy", "is_chief", "write_path"]
