"""TF Hub BERT models in Keras 3: a trainable encoder layer and a tf.data preprocessor.

Exporting tfzoo models in TF Hub's format is `tfzoo.export.hub`.
"""

from tfzoo.hub.hub_encoder import HubEncoder
from tfzoo.hub.hub_preprocessor import HubPreprocessor

__all__ = ["HubEncoder", "HubPreprocessor"]
