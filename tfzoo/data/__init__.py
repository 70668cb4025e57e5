"""tf.data pipelines: pretraining examples, masking, task datasets."""

from tfzoo.data.masking import MaskingConfig, mask_tokens

__all__ = ["MaskingConfig", "mask_tokens"]
