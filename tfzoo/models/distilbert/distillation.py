"""Knowledge distillation (Hinton et al. 2015), as DistilBERT trains its student."""

import keras
from keras import ops


def distillation_loss(labels, student_logits, teacher_logits, temperature=2.0, alpha=0.5,
                      sample_weight=None):
    """Soft-target loss plus hard-label loss.

        loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
               + (1 - alpha) * CE(labels, softmax(student))

    The T^2 factor keeps the soft-target gradients on the scale of the hard
    ones when T changes (Hinton et al. 2015, section 2).

    Args:
        labels: int [B, ...], the hard labels.
        student_logits: [B, ..., C].
        teacher_logits: [B, ..., C]; treated as constants.
        temperature: float > 0, T.
        alpha: float in [0, 1], weight of the soft targets.
        sample_weight: optional [B, ...] weights (e.g. 0 on padding).

    Returns:
        The weighted mean loss, a scalar.
    """
    if temperature <= 0:
        raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}")
    student_logits = ops.cast(student_logits, "float32")
    teacher_logits = ops.stop_gradient(ops.cast(teacher_logits, "float32"))
    teacher_probs = ops.softmax(teacher_logits / temperature, axis=-1)
    student_log_probs = ops.log_softmax(student_logits / temperature, axis=-1)
    teacher_log_probs = ops.log_softmax(teacher_logits / temperature, axis=-1)
    soft = ops.sum(teacher_probs * (teacher_log_probs - student_log_probs), axis=-1)
    hard = keras.losses.sparse_categorical_crossentropy(labels, student_logits, from_logits=True)
    per_example = alpha * temperature**2 * soft + (1.0 - alpha) * hard
    if sample_weight is None:
        return ops.mean(per_example)
    sample_weight = ops.cast(sample_weight, "float32")
    return ops.sum(per_example * sample_weight) / ops.maximum(ops.sum(sample_weight), 1e-9)


@keras.saving.register_keras_serializable(package="tfzoo")
class Distiller(keras.Model):
    """Trains `student` to match a frozen `teacher` with `distillation_loss`.

    Both models take the same inputs and return logits. `fit(x, labels)`
    trains the student only; `predict` returns the student's logits.

    Args:
        student: keras.Model, e.g. `BertClassifier(DistilBertBackbone(...), n)`.
        teacher: keras.Model, e.g. a fine-tuned `BertClassifier`; frozen.
        temperature: float, T. Defaults to 2.0.
        alpha: float, weight of the soft targets. Defaults to 0.5.

    Example:
    >>> distiller = Distiller(student, teacher, temperature=2.0, alpha=0.5)
    >>> distiller.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"])
    >>> distiller.fit(features, labels, epochs=3)
    """

    def __init__(self, student, teacher, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}")
        self.alpha = float(alpha)
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.temperature = float(temperature)

    def call(self, inputs, training=None):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_logits = self.teacher(x, training=False)
        loss = distillation_loss(y, y_pred, teacher_logits, self.temperature, self.alpha,
                                 sample_weight)
        return loss + ops.sum(self.losses) if self.losses else loss

    def get_config(self):
        return {
            "name": self.name,
            "student": keras.saving.serialize_keras_object(self.student),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "temperature": self.temperature,
            "alpha": self.alpha,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("student", "teacher"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
