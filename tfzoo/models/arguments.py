"""Which keyword arguments a tfzoo model takes, and errors naming the others.

`keras.Model` (a functional one) accepts and silently drops keyword arguments
it does not know, so a misspelt `dropuot=0.5` would build a model with the
default dropout. Backbones and tasks check what reaches `keras.Model` here.
"""

import difflib
import inspect

# keras.Model's own constructor arguments that tfzoo models pass through.
KERAS_MODEL_ARGUMENTS = ("name", "dtype", "trainable")


def constructor_arguments(model_class):
    """The names `model_class.__init__` takes by keyword (not *args/**kwargs)."""
    parameters = inspect.signature(model_class.__init__).parameters
    return [name for name, p in parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def accepted_arguments(model_class):
    """Constructor arguments plus keras.Model's `name`, `dtype`, `trainable`."""
    return set(constructor_arguments(model_class)) | set(KERAS_MODEL_ARGUMENTS)


def check_known(model_class, kwargs, accepted, what="keyword argument(s)", where=""):
    """Raises ValueError naming every key of `kwargs` not in `accepted`, its
    value, and the closest accepted name.

    Args:
        model_class: the class the arguments are meant for (named in the error).
        kwargs: dict of the arguments received.
        accepted: iterable of the names allowed.
        what: how the error calls them, e.g. "key(s)".
        where: where they came from, e.g. " in model config 'bert.yaml'".
    """
    accepted = set(accepted)
    unknown = sorted(set(kwargs) - accepted)
    if not unknown:
        return
    received = ", ".join(f"{key}={kwargs[key]!r}" for key in unknown)
    hints = [f"{matches[0]!r} for {key!r}" for key in unknown
             for matches in [difflib.get_close_matches(key, accepted, n=1)] if matches]
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    raise ValueError(
        f"Unknown {what} {unknown} for {model_class.__name__}{where}: {received}{hint}. "
        f"Accepted: {sorted(accepted)}"
    )
