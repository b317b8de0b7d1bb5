"""What a CloudFormation template's resources depend on, and in what order
CloudFormation therefore creates (and, reversed, deletes) them."""

from __future__ import annotations

import re
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def references(node: Any) -> set[str]:
    """Names a template fragment refers to: Ref, Fn::GetAtt and Fn::Sub ${X}/${X.Attr}."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text, mapping = (value[0], value[1]) if isinstance(value, list) else (value, {})
                for name in _SUB_VARIABLE.findall(text):
                    if name.split(".")[0] not in mapping:
                        found.add(name.split(".")[0])
                found |= references(mapping)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def dependencies(resources: dict[str, Any], logical_id: str) -> list[str]:
    """What a resource must wait for: its DependsOn plus the resources it references."""
    resource = resources[logical_id]
    depends_on = resource.get("DependsOn", [])
    if isinstance(depends_on, str):
        depends_on = [depends_on]
    referenced = references(resource.get("Properties", {}))
    return [d for d in resources if d != logical_id and (d in depends_on or d in referenced)]


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that every resource comes after what it depends on
    (template order otherwise), as CloudFormation schedules a create."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered or logical_id in visiting:
            return
        visiting.add(logical_id)
        for dependency in dependencies(resources, logical_id):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def resolved_parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as CloudFormation compares them: given value, else default."""
    slots = template.get("Parameters") or {}
    return {name: given.get(name, slot.get("Default")) for name, slot in slots.items()}
