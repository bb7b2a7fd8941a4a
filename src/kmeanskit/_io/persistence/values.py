"""How values are written in a manifest, and read back.

JSON holds ``None``, bools, ints, finite floats and strings as they are;
anything else is tagged: ``{"array": member}`` (an ``.npy`` member of the
file), ``{"float": "inf"}``, ``{"tuple": [...]}``, ``{"strings": [...]}``
(feature names), ``{"mt19937": {...}}`` (a ``RandomState`` at its exact
position) and ``{"levels": [[...], ...]}`` (the category levels of each
categorical column: strings, ints, finite floats or bools, at most
:data:`~kmeanskit._io.persistence.format.MAX_STORED_LEVELS` distinct values per
column). Nothing else is written, and nothing else is read.

A manifest nests at most :data:`MAX_DEPTH` lists and objects deep (a file of
:func:`~kmeanskit._io.persistence.writer.save` nests 6), so that nothing that
walks it, :func:`decode` included, can exhaust the stack.
"""

import math

import numpy as np

from kmeanskit._io.persistence.format import MAX_STORED_LEVELS, ModelFileError

__all__ = ["MAX_DEPTH", "MT19937_WORDS", "Members", "check_depth", "decode", "encode"]

MAX_DEPTH = 16
MT19937_WORDS = 624


def check_depth(value, where):
    """ModelFileError if ``value`` (parsed JSON) nests lists and objects more than MAX_DEPTH deep."""
    level = [value]
    for _ in range(MAX_DEPTH + 1):
        level = [item for v in level if isinstance(v, (list, dict))
                 for item in (v.values() if isinstance(v, dict) else v)]
        if not level:
            return
    raise ModelFileError(f"{where} nests lists and objects more than {MAX_DEPTH} deep.")


class Members(dict):
    """Arrays read from the file, by member name, remembering which ones the manifest used."""

    def __init__(self):
        super().__init__()
        self.used = set()


def encode(value, member, arrays, what):
    """A JSON value for ``value``: arrays go to ``arrays[member]``, special values are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v, member, arrays, what) for v in value]}
    if isinstance(value, list) and value and all(isinstance(v, np.ndarray) and v.dtype == object for v in value):
        return {"levels": [[_level(v, what) for v in levels.tolist()] for levels in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arrays[member] = value
        return {"array": member}
    if type(value) is np.random.RandomState:  # MiniBatchKMeans._random_state: its exact position
        state = value.get_state(legacy=False)
        if state["bit_generator"] != "MT19937":
            raise ValueError(f"Cannot save {what}: a {state['bit_generator']} generator cannot be stored.")
        return {"mt19937": {
            "key": encode(state["state"]["key"], member, arrays, what),
            "pos": int(state["state"]["pos"]),
            "has_gauss": int(state["has_gauss"]),
            "gauss": encode(state["gauss"], member, arrays, what),
        }}
    raise ValueError(f"Cannot save {what}: a value of type {type(value).__name__} cannot be stored.")


def decode(value, arrays, where):
    """The value :func:`encode` wrote, taking arrays from ``arrays`` (and marking them used); ModelFileError
    for any other tag. ``where`` names the value in messages."""
    if isinstance(value, list):
        return [decode(v, arrays, where) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise ModelFileError(f"{where}: unexpected object {value!r}.")
    (tag, content), = value.items()
    if tag == "array":
        if content not in arrays:
            raise ModelFileError(f"{where}: refers to member {content!r}, which the manifest does not list.")
        arrays.used.add(content)
        return arrays[content]
    if tag == "float" and content in ("inf", "-inf", "nan"):
        return float(content)
    if tag == "tuple" and isinstance(content, list):
        return tuple(decode(v, arrays, where) for v in content)
    if tag == "strings" and isinstance(content, list) and all(isinstance(s, str) for s in content):
        return np.asarray(content, dtype=object)
    if tag == "mt19937" and isinstance(content, dict):
        return _random_state(content, arrays, where)
    if tag == "levels" and isinstance(content, list):
        return [_levels(levels, where, c) for c, levels in enumerate(content)]
    raise ModelFileError(f"{where}: unexpected object {value!r}.")


def _random_state(content, arrays, where):
    """A RandomState at the stored position of its MT19937 stream (nothing else is accepted)."""
    if set(content) != {"key", "pos", "has_gauss", "gauss"}:
        raise ModelFileError(f"{where}: a random generator state needs key, pos, has_gauss and gauss.")
    key = decode(content["key"], arrays, where)
    pos, has_gauss, gauss = content["pos"], content["has_gauss"], decode(content["gauss"], arrays, where)
    if not isinstance(key, np.ndarray) or key.dtype != np.uint32 or key.shape != (MT19937_WORDS,):
        raise ModelFileError(f"{where}: the generator key must be {MT19937_WORDS} uint32 words.")
    if type(pos) is not int or not 0 <= pos <= MT19937_WORDS:
        raise ModelFileError(f"{where}: the generator position must be an int in [0, {MT19937_WORDS}], got {pos!r}.")
    if has_gauss not in (0, 1) or type(has_gauss) is not int:
        raise ModelFileError(f"{where}: has_gauss must be 0 or 1, got {has_gauss!r}.")
    if type(gauss) not in (int, float) or not math.isfinite(gauss):
        raise ModelFileError(f"{where}: the cached gaussian must be a finite number, got {gauss!r}.")
    random_state = np.random.RandomState()
    random_state.set_state(("MT19937", key, pos, has_gauss, float(gauss)))
    return random_state


def _level(value, what):
    """A category level as a JSON scalar (a str, int, finite float or bool)."""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating, int, float)):
        value = value.item() if isinstance(value, np.generic) else value
        if not isinstance(value, float) or math.isfinite(value):
            return value
    raise ValueError(f"Cannot save {what}: a category level {value!r:.80} is not a string, a number or a bool.")


def _levels(levels, where, c):
    """The levels of categorical column ``c`` (its position among them) as an object array, checked: a
    non-empty list of at most MAX_STORED_LEVELS distinct strings, ints, finite floats or bools."""
    if not isinstance(levels, list) or not levels:
        raise ModelFileError(f"{where}: the levels of categorical column {c} must be a non-empty list, "
                             f"got {type(levels).__name__}.")
    if len(levels) > MAX_STORED_LEVELS:
        raise ModelFileError(f"{where}: categorical column {c} has {len(levels)} levels; a model file holds "
                             f"at most {MAX_STORED_LEVELS} per column.")
    for value in levels:
        if not isinstance(value, (str, int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise ModelFileError(f"{where}: a level of categorical column {c} is {value!r:.80}; levels are "
                                 "strings, numbers or bools.")
    keys = {(type(v).__name__, v) for v in levels}
    if len(keys) != len(levels):
        raise ModelFileError(f"{where}: categorical column {c} lists a level twice.")
    return np.asarray(levels, dtype=object)
