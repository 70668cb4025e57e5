"""Paper building blocks: positional encodings, attention, feed-forward, blocks."""

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.feed_forward import FeedForward
from tfzoo.layers.multi_head_attention import MultiHeadAttention
from tfzoo.layers.position_embedding import PositionEmbedding
from tfzoo.layers.relative_attention import RelativeAttention
from tfzoo.layers.relative_position_encoding import RelativePositionEncoding
from tfzoo.layers.reversible_embedding import ReversibleEmbedding
from tfzoo.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from tfzoo.layers.token_and_position_embedding import TokenAndPositionEmbedding
from tfzoo.layers.transformer_decoder_block import TransformerDecoderBlock
from tfzoo.layers.transformer_encoder_block import TransformerEncoderBlock
from tfzoo.layers.utils import gelu_approximate

__all__ = [
    "Dropout",
    "FeedForward",
    "MultiHeadAttention",
    "PositionEmbedding",
    "RelativeAttention",
    "RelativePositionEncoding",
    "ReversibleEmbedding",
    "SinusoidalPositionEncoding",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "gelu_approximate",
]
