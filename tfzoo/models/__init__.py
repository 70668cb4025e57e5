"""Model families built from tfzoo.layers: backbones and task heads."""
