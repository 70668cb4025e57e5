"""XLNet (Yang et al. 2019): backbone, permutation-LM pretraining and fine-tuning heads."""

from tfzoo.models.xlnet.xlnet_backbone import XLNetBackbone
from tfzoo.models.xlnet.xlnet_classifier import XLNetClassifier
from tfzoo.models.xlnet.xlnet_lm_head import XLNetLMHead
from tfzoo.models.xlnet.xlnet_span_labeler import XLNetSpanLabeler

__all__ = ["XLNetBackbone", "XLNetClassifier", "XLNetLMHead", "XLNetSpanLabeler"]
