"""The exceptions gptviz raises. Each message says what went wrong and what to do about it."""


class GptvizError(Exception):
    """Base class of every error gptviz raises on purpose."""


class InputError(GptvizError, ValueError):
    """A text, token list or setting that the model cannot take (empty, too long, out of range)."""


class LoadError(GptvizError, OSError):
    """A model that cannot be loaded: unknown name, no network, corrupt or mismatched checkpoint."""


class TraceTooLargeError(GptvizError, MemoryError):
    """A trace whose recorded tensors would exceed the memory budget."""


class ActivationNameError(GptvizError, KeyError):
    """A name that is not an activation name, or one that this trace did not record."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class EditError(GptvizError, ValueError):
    """An edit passed to ``trace(edits=...)`` that raised, or returned the wrong shape or NaN."""


class ExportError(GptvizError, OSError):
    """A file that could not be written (no space, no permission, a folder in the way); the file it
    would have replaced is left as it was."""


class NonFiniteError(GptvizError, FloatingPointError):
    """A forward pass whose logits hold NaN or an infinity; the message names the first site where a
    non-finite value appeared (``allow_nonfinite=True`` returns the trace anyway)."""
