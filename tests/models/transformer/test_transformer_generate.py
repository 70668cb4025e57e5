"""Transformer.generate's length limits and argument checks."""

import pytest

from tfzoo.models.transformer import Transformer

START, END = 1, 2


@pytest.fixture(scope="module")
def model():
    # Untrained and tiny: it rarely emits END, so outputs run to their limit.
    return Transformer(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=16,
                       intermediate_dim=32, max_sequence_length=96, dropout=0.0)


def test_default_limit_is_each_sources_own_length_plus_50(model):
    short, long = [5, 6, 7], [3] * 41
    alone = model.generate([short], START, END)
    together = model.generate([short, long], START, END)
    assert together[0] == alone[0]
    for source, tokens in zip([short, long], together):
        if END not in tokens:
            assert len(tokens) == len(source) + 50 - 1  # the start token counts
        assert len(tokens) <= len(source) + 50 - 1
    beams = model.generate([short, long], START, END, num_beams=2)
    assert beams[0] == model.generate([short], START, END, num_beams=2)[0]


@pytest.mark.parametrize("kwargs, message", [
    ({"num_beams": 0}, "num_beams=0"),
    ({"num_beams": 1.5}, "num_beams=1.5"),
    ({"max_length": 1}, "max_length=1"),
    ({"max_length": 0}, "max_length=0"),
    ({"max_length": 200}, "max_length=200 exceeds max_sequence_length=96"),
])
def test_bad_arguments_name_the_value(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.generate([[5, 6]], START, END, **kwargs)
