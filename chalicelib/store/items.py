"""Plain values as DynamoDB attribute values, typed by a model's attributes, without building the model.

The posting engine stages its items this way: building a PynamoDB model per item and serialising it
cost a sixth of a check-in's own time (docs/performance.md). The model class stays the one statement of
each attribute's name, type and whether it may be missing; this module only reads it.
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.models import Model

_SHAPES: dict[type, tuple[dict[str, Attribute], frozenset[str]]] = {}


def _shape(model: type[Model]) -> tuple[dict[str, Attribute], frozenset[str]]:
    """(attributes by Python name, the names an item must carry: not nullable and without a default)."""
    shape = _SHAPES.get(model)
    if shape is None:
        attributes = model.get_attributes()
        required = frozenset(name for name, attribute in attributes.items()
                             if not attribute.null and attribute.default is None and attribute.default_for_new is None)
        shape = _SHAPES[model] = (attributes, required)
    return shape


def value(model: type[Model], name: str, plain: Any) -> dict:
    """{"N": "5"} for Account, "points", 5; the attribute's own serialiser decides the form."""
    attribute = _shape(model)[0][name]
    return {attribute.attr_type: attribute.serialize(plain)}


def attr_name(model: type[Model], name: str) -> str:
    return _shape(model)[0][name].attr_name


def item(model: type[Model], values: dict[str, Any]) -> dict[str, dict]:
    """A whole item; None values are left out, as PynamoDB leaves out unset nullable attributes."""
    attributes, required = _shape(model)
    missing = required.difference(name for name, plain in values.items() if plain is not None)
    if missing:
        raise ValueError(f"{model.__name__} item lacks {', '.join(sorted(missing))}")
    out = {}
    for name, plain in values.items():
        if plain is not None:
            attribute = attributes[name]
            out[attribute.attr_name] = {attribute.attr_type: attribute.serialize(plain)}
    return out


def key(model: type[Model], hash_key: Any, range_key: Any = None) -> dict[str, dict]:
    out = {attr_name(model, model._hash_keyname): value(model, model._hash_keyname, hash_key)}
    if model._range_keyname:
        out[attr_name(model, model._range_keyname)] = value(model, model._range_keyname, range_key)
    return out
