"""tfzoo: a Keras 3 / TensorFlow model zoo.

Paper building blocks live in `tfzoo.layers`; models, preprocessing, training,
distribution and export build on them.
"""

__version__ = "0.1.0"
