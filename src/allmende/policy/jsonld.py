"""Reading and writing policies in the DSP 2025-1 compact JSON-LD form.

The reader accepts what peers send: keys and terms with or without the ``odrl:`` prefix or as full ODRL
IRIs, values as plain strings, ``{"@id": ...}`` or ``{"@value": ..., "@type": ...}``, single objects where
lists are expected, and ``uid`` as an alias of ``@id``. It rejects what it cannot evaluate faithfully
(action refinements, ``rightOperandReference``, several actions in one rule) with a ``PolicyError`` naming
the field, because silently ignoring a refinement would grant more than the policy says.

The writer produces the compact form of the DSP examples: short ODRL names, lists for rules and
constraints, and numbers or booleans as typed values (the DSP schema allows only string, object or
array right operands). A policy without uid gets a stable ``urn:uuid:`` derived from its terms.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from allmende.clock import isoformat, parse_datetime
from allmende.policy.errors import PolicyError
from allmende.policy.model import (
    POLICY_TYPES,
    Constraint,
    ConstraintNode,
    Duty,
    LogicalConstraint,
    LogicalOperator,
    Permission,
    Policy,
    PolicyType,
    Prohibition,
)
from allmende.policy.terms import same_terms, terms_key
from allmende.policy.vocabulary import LOGICAL_OPERATORS, short_term

__all__ = ["PolicyError", "policy_from_json", "policy_to_json", "same_terms"]

_UID_NAMESPACE = uuid.UUID("6f1c3d2e-9a57-4c1b-8e0f-a11e4de00001")
_NUMBER_TYPES = {int: "xsd:integer", float: "xsd:decimal", Decimal: "xsd:decimal", bool: "xsd:boolean"}


def _plain(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object with keys reduced to their short ODRL names (``odrl:permission`` -> ``permission``)."""
    return {short_term(key) if isinstance(key, str) else key: value for key, value in obj.items()}


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(path, f"must be a JSON object, got {type(value).__name__}")
    return _plain(value)


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping) and "@list" in value:
        return _as_list(value["@list"])
    return list(value) if isinstance(value, list | tuple) else [value]


def _identifier(value: object, path: str) -> str:
    """A string, or the ``@id`` / ``uid`` of an object (a party or asset given as a node)."""
    if isinstance(value, list) and len(value) == 1:
        return _identifier(value[0], path)
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        node = _plain(value)
        for key in ("@id", "uid"):
            if key in node:
                return _identifier(node[key], f"{path}.{key}")
    raise PolicyError(path, f"must be an identifier string or an object with @id, got {value!r}")


def _optional_identifier(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _identifier(obj[key], f"{path}{key}")


def _action(value: object, path: str) -> str:
    if isinstance(value, list):
        if len(value) != 1:
            raise PolicyError(path, f"exactly one action per rule is supported, got {len(value)}")
        return _action(value[0], f"{path}[0]")
    if isinstance(value, Mapping):
        node = _plain(value)
        if "refinement" in node:
            raise PolicyError(f"{path}.refinement", "action refinements are not supported by this node")
        if "rdf:value" in node:
            return _identifier(node["rdf:value"], f"{path}.rdf:value")
    return _identifier(value, path)


def _right_operand(value: object, path: str) -> tuple[object, str | None]:
    if isinstance(value, list):
        items = [_right_operand(item, f"{path}[{index}]") for index, item in enumerate(value)]
        types = {data_type for _, data_type in items if data_type is not None}
        return tuple(item for item, _ in items), (types.pop() if len(types) == 1 else None)
    if isinstance(value, Mapping):
        if "@value" in value:
            literal = value["@value"]
            if literal is None or isinstance(literal, Mapping | list):
                raise PolicyError(f"{path}.@value", f"must be a string, number or boolean, got {literal!r}")
            data_type = value.get("@type")
            if _NUMBER_TYPES.get(type(literal)) == data_type:
                data_type = None  # implied by the JSON value; the writer adds it back
            return literal, (data_type if isinstance(data_type, str) else None)
        if "@id" in value:
            return _identifier(value, path), None
        raise PolicyError(path, "an object right operand needs @value or @id")
    if value is None:
        raise PolicyError(path, "is missing")
    if isinstance(value, str | int | float | bool):
        return value, None
    raise PolicyError(path, f"unsupported right operand {value!r}")


def _constraint(value: object, path: str) -> ConstraintNode:
    node = _object(value, path)
    logical = [key for key in LOGICAL_OPERATORS if key in node]
    if len(logical) > 1:
        raise PolicyError(path, f"a logical constraint has exactly one operator, got {logical}")
    if logical:
        operator: LogicalOperator = logical[0]
        children = _as_list(node[operator])
        if not children:
            raise PolicyError(f"{path}.{operator}", "must list at least one constraint")
        parts = tuple(
            _constraint(child, f"{path}.{operator}[{index}]") for index, child in enumerate(children)
        )
        return LogicalConstraint(operator, parts)
    if "rightOperandReference" in node:
        raise PolicyError(f"{path}.rightOperandReference", "right operand references are not supported")
    for key in ("leftOperand", "operator", "rightOperand"):
        if key not in node:
            raise PolicyError(f"{path}.{key}", "is required")
    right, data_type = _right_operand(node["rightOperand"], f"{path}.rightOperand")
    explicit_type = node.get("dataType")
    try:
        return Constraint(
            left_operand=_identifier(node["leftOperand"], f"{path}.leftOperand"),
            operator=_identifier(node["operator"], f"{path}.operator"),
            right_operand=right,
            unit=_optional_identifier(node, "unit", f"{path}."),
            data_type=explicit_type if isinstance(explicit_type, str) else data_type,
        )
    except PolicyError as exc:
        raise PolicyError(f"{path}.{exc.path}", exc.problem) from exc


def _constraints(node: Mapping[str, Any], path: str) -> tuple[ConstraintNode, ...]:
    if "refinement" in node:
        raise PolicyError(f"{path}refinement", "refinements are not supported by this node")
    items = _as_list(node.get("constraint"))
    return tuple(_constraint(item, f"{path}constraint[{index}]") for index, item in enumerate(items))


def _parties(node: Mapping[str, Any], path: str) -> dict[str, str | None]:
    return {key: _optional_identifier(node, key, path) for key in ("target", "assignee", "assigner")}


def _uid(node: Mapping[str, Any], path: str) -> str | None:
    for key in ("@id", "uid"):
        if node.get(key) is not None:
            return _identifier(node[key], f"{path}{key}")
    return None


def _duty(value: object, path: str) -> Duty:
    node = _object(value, path)
    if "action" not in node:
        raise PolicyError(f"{path}.action", "is required")
    consequences = tuple(_duty(item, f"{path}.consequence[{index}]")
                         for index, item in enumerate(_as_list(node.get("consequence"))))  # fmt: skip
    return Duty(
        action=_action(node["action"], f"{path}.action"),
        constraints=_constraints(node, f"{path}."),
        consequences=consequences,
        uid=_uid(node, f"{path}."),
        **_parties(node, f"{path}."),
    )


def _permission(value: object, path: str) -> Permission:
    node = _object(value, path)
    if "action" not in node:
        raise PolicyError(f"{path}.action", "is required")
    duties = tuple(
        _duty(item, f"{path}.duty[{index}]") for index, item in enumerate(_as_list(node.get("duty")))
    )
    return Permission(
        action=_action(node["action"], f"{path}.action"),
        constraints=_constraints(node, f"{path}."),
        duties=duties,
        uid=_uid(node, f"{path}."),
        **_parties(node, f"{path}."),
    )


def _prohibition(value: object, path: str) -> Prohibition:
    node = _object(value, path)
    if "action" not in node:
        raise PolicyError(f"{path}.action", "is required")
    remedies = tuple(
        _duty(item, f"{path}.remedy[{index}]") for index, item in enumerate(_as_list(node.get("remedy")))
    )
    return Prohibition(
        action=_action(node["action"], f"{path}.action"),
        constraints=_constraints(node, f"{path}."),
        remedies=remedies,
        uid=_uid(node, f"{path}."),
        **_parties(node, f"{path}."),
    )


def _policy_type(node: Mapping[str, Any]) -> PolicyType:
    raw = node.get("@type", "Set")
    names = [short_term(item) for item in _as_list(raw) if isinstance(item, str)]
    for name in names:
        if name in POLICY_TYPES:
            return name  # type: ignore[return-value]
    raise PolicyError("@type", f"expected one of {', '.join(POLICY_TYPES)}, got {raw!r}")


def policy_from_json(obj: Mapping[str, Any]) -> Policy:
    """Read an ODRL policy in DSP compact JSON-LD form; raises ``PolicyError`` naming the bad field."""
    node = _object(obj, "policy")
    timestamp: datetime | None = None
    if node.get("timestamp") is not None:
        raw = node["timestamp"]
        raw = raw.get("@value") if isinstance(raw, Mapping) else raw
        try:
            timestamp = parse_datetime(raw) if isinstance(raw, str) else None
        except ValueError as exc:
            raise PolicyError("timestamp", f"{raw!r} is not an RFC 3339 timestamp") from exc
        if timestamp is None:
            raise PolicyError("timestamp", f"must be an RFC 3339 string, got {raw!r}")
    rules = {key: _as_list(node.get(key)) for key in ("permission", "prohibition", "obligation")}
    profile = tuple(
        _identifier(item, f"profile[{index}]") for index, item in enumerate(_as_list(node.get("profile")))
    )
    return Policy(
        uid=_uid(node, ""),
        policy_type=_policy_type(node),
        permissions=tuple(
            _permission(item, f"permission[{i}]") for i, item in enumerate(rules["permission"])
        ),
        prohibitions=tuple(
            _prohibition(item, f"prohibition[{i}]") for i, item in enumerate(rules["prohibition"])
        ),
        obligations=tuple(_duty(item, f"obligation[{i}]") for i, item in enumerate(rules["obligation"])),
        profile=profile,
        timestamp=timestamp,
        **_parties(node, ""),
    )


def _right_json(value: object, data_type: str | None) -> Any:
    if isinstance(value, tuple):
        return [_right_json(item, data_type) for item in value]
    if data_type is not None:
        return {"@value": value, "@type": data_type}
    for python_type, xsd_type in _NUMBER_TYPES.items():
        if type(value) is python_type:
            return {"@value": str(value) if isinstance(value, Decimal) else value, "@type": xsd_type}
    if isinstance(value, datetime):
        return {"@value": isoformat(value), "@type": "xsd:dateTime"}
    return value


def _constraint_json(node: ConstraintNode) -> dict[str, Any]:
    if isinstance(node, LogicalConstraint):
        return {node.operator: [_constraint_json(child) for child in node.constraints]}
    out: dict[str, Any] = {
        "leftOperand": node.left_operand,
        "operator": node.operator,
        "rightOperand": _right_json(node.right_operand, node.data_type),
    }
    if node.unit is not None:
        out["unit"] = node.unit
    return out


def _rule_json(rule: Permission | Prohibition | Duty) -> dict[str, Any]:
    out: dict[str, Any] = {"action": rule.action}
    if rule.uid is not None:
        out["@id"] = rule.uid
    for key in ("target", "assigner", "assignee"):
        if getattr(rule, key) is not None:
            out[key] = getattr(rule, key)
    if rule.constraints:
        out["constraint"] = [_constraint_json(node) for node in rule.constraints]
    nested = {"duty": getattr(rule, "duties", ()), "remedy": getattr(rule, "remedies", ()),
              "consequence": getattr(rule, "consequences", ())}  # fmt: skip
    for key, duties in nested.items():
        if duties:
            out[key] = [_rule_json(duty) for duty in duties]
    return out


def policy_to_json(policy: Policy, *, for_catalog: bool = False) -> dict[str, Any]:
    """Write ``policy`` in DSP compact form (without ``@context``).

    ``for_catalog=True`` leaves out the policy-level ``target``: in a catalog the dataset that holds the
    offer is its target, and the DSP ``Offer`` schema forbids a ``target`` there.
    """
    uid = policy.uid or f"urn:uuid:{uuid.uuid5(_UID_NAMESPACE, json.dumps(terms_key(policy)))}"
    out: dict[str, Any] = {"@id": uid, "@type": policy.policy_type}
    if policy.profile:
        out["profile"] = policy.profile[0] if len(policy.profile) == 1 else list(policy.profile)
    if policy.timestamp is not None:
        out["timestamp"] = isoformat(policy.timestamp)
    if policy.target is not None and not for_catalog:
        out["target"] = policy.target
    for key in ("assigner", "assignee"):
        if getattr(policy, key) is not None:
            out[key] = getattr(policy, key)
    rules: dict[str, tuple[Permission | Prohibition | Duty, ...]] = {
        "permission": policy.permissions,
        "prohibition": policy.prohibitions,
        "obligation": policy.obligations,
    }
    for key, items in rules.items():
        if items:
            out[key] = [_rule_json(rule) for rule in items]
    return out
