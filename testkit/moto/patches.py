"""Patches that make moto 5.2.5's CloudFormation behave like the real service.

The product is written for AWS CloudFormation, never for moto, so where moto
differs the test server is made to behave like CloudFormation.  Each patch is
one small function below, named after the behaviour it restores, and `apply()`
installs them all.  What moto 5.2.5 does without them (each checked with boto3
against this server):

- ExecuteChangeSet creates new resources in template order, ignoring
  `DependsOn`, returns a failing resource's error from the API call itself and
  leaves the stack CREATE_IN_PROGRESS for ever, never refreshes the stack's
  outputs or parameters (no Outputs after a change-set create), and emits no
  resource events.
- An unchanged UPDATE change set, when every parameter is passed, fails
  CreateChangeSet with "No updates are to be performed." instead of creating a
  FAILED change set; change sets are found by name across all stacks; a CREATE
  change set for an existing stack makes a second stack of the same name.
- DeleteStack reports DELETE_COMPLETE when a bucket is not empty (and leaves
  it), deletes in no particular order, and emits no resource events.
- A resource type moto does not know is skipped with a warning and every
  `Ref` to it resolves to null.

What stays moto's: the per-type create/update/delete handlers (plus ours in
`cfn_types`), intrinsic functions, parameters and conditions.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.core.exceptions import ServiceException
from moto.core.utils import utcnow

# --------------------------------------------------------------------------
# Template analysis
# --------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(node: Any) -> set[str]:
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
                found |= _references(mapping)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def _dependencies(resources: dict[str, Any], logical_id: str) -> list[str]:
    """What a resource must wait for: its DependsOn plus the resources it references."""
    resource = resources[logical_id]
    depends_on = resource.get("DependsOn", [])
    if isinstance(depends_on, str):
        depends_on = [depends_on]
    referenced = _references(resource.get("Properties", {}))
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
        for dependency in _dependencies(resources, logical_id):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def _resolved_parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as CloudFormation compares them: given value, else default."""
    slots = template.get("Parameters") or {}
    return {name: given.get(name, slot.get("Default")) for name, slot in slots.items()}


def _reason(error: BaseException) -> str:
    """The message CloudFormation would put in ResourceStatusReason."""
    message = getattr(error, "message", None) or getattr(error, "description", None) or str(error)
    code = getattr(error, "code", None)
    if isinstance(code, str) and code and not message.startswith(code):
        return f"{message} (Service: {code})"
    return str(message)


# --------------------------------------------------------------------------
# Events and per-resource status
# --------------------------------------------------------------------------


_REQUEST = threading.local()


def _client_request_token() -> str | None:
    """The ClientRequestToken of the ExecuteChangeSet/DeleteStack call being served."""
    return getattr(_REQUEST, "token", None)


def _stack_event(stack: Any, status: str, reason: str | None = None) -> None:
    stack._add_stack_event(status, resource_status_reason=reason)
    stack.events[-1].client_request_token = _client_request_token()
    if status.endswith(("_FAILED", "ROLLBACK_IN_PROGRESS")) and reason:
        stack.stack_status_reason = reason


def _resource_event(
    stack: Any, logical_id: str, status: str, reason: str | None = None, physical_id: str | None = None
) -> None:
    """A resource event, as DescribeStackEvents shows them (newest first)."""
    resources = stack.resource_map._resource_json_map
    resource_type = (resources.get(logical_id) or {}).get("Type") or _known_type(stack, logical_id)
    if physical_id is None:
        resource = stack.resource_map._parsed_resources.get(logical_id)
        physical_id = getattr(resource, "physical_resource_id", None) or ""
    stack.events.append(
        cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )
    stack.events[-1].client_request_token = _client_request_token()
    _statuses(stack)[logical_id] = status


def _statuses(stack: Any) -> dict[str, str]:
    if not hasattr(stack, "testkit_resource_status"):
        stack.testkit_resource_status = {}
    return stack.testkit_resource_status


def _known_type(stack: Any, logical_id: str) -> str:
    resource = stack.resource_map._parsed_resources.get(logical_id)
    return getattr(resource, "cf_resource_type", "") or ""


def _is_resource(value: Any) -> bool:
    return value is not None and not isinstance(value, (str, int, float, list, dict))


# --------------------------------------------------------------------------
# Creating, updating and deleting resources, one at a time, with events
# --------------------------------------------------------------------------


class _ResourceFailed(Exception):
    def __init__(self, logical_id: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


def _create_one(stack: Any, logical_id: str) -> None:
    resource_map = stack.resource_map
    if logical_id in resource_map._parsed_resources:
        return  # already made while resolving another resource's Ref
    condition = resource_map._resource_json_map[logical_id].get("Condition")
    if condition and not resource_map.lazy_condition_map[condition]:
        return
    _resource_event(stack, logical_id, "CREATE_IN_PROGRESS", physical_id="")
    try:
        resource = resource_map[logical_id]
    except Exception as error:  # any handler error fails this resource, as in CloudFormation
        reason = _reason(error)
        _resource_event(stack, logical_id, "CREATE_FAILED", reason, physical_id="")
        raise _ResourceFailed(logical_id, reason) from error
    if resource is None:
        raise _ResourceFailed(logical_id, "Resource type not supported by this test server")
    _resource_event(stack, logical_id, "CREATE_COMPLETE")


def _update_one(stack: Any, logical_id: str) -> bool:
    """Updates one resource in place or by replacement; True if its physical id changed."""
    resource_map = stack.resource_map
    before = resource_map._parsed_resources.get(logical_id)
    old_id = getattr(before, "physical_resource_id", None)
    _resource_event(stack, logical_id, "UPDATE_IN_PROGRESS")
    try:
        changed = parsing.parse_and_update_resource(
            logical_id,
            resource_map._resource_json_map[logical_id],
            resource_map,
            account_id=resource_map._account_id,
            region_name=resource_map._region_name,
        )
    except Exception as error:
        reason = _reason(error)
        _resource_event(stack, logical_id, "UPDATE_FAILED", reason)
        raise _ResourceFailed(logical_id, reason) from error
    if changed is not None:  # None: moto has no update handler; the resource stays as it was
        resource_map._parsed_resources[logical_id] = changed
    new_id = getattr(resource_map._parsed_resources.get(logical_id), "physical_resource_id", None)
    _resource_event(stack, logical_id, "UPDATE_COMPLETE")
    return new_id != old_id


def _delete_one(stack: Any, logical_id: str, resource_json: dict[str, Any]) -> str | None:
    """Deletes one resource; returns the failure reason, or None when it is gone."""
    resource_map = stack.resource_map
    resource = resource_map._parsed_resources.get(logical_id)
    if not _is_resource(resource):
        resource_map._parsed_resources.pop(logical_id, None)
        return None
    if resource_json.get("DeletionPolicy") == "Retain":
        _resource_event(stack, logical_id, "DELETE_SKIPPED")
        resource_map._parsed_resources.pop(logical_id, None)
        return None
    _resource_event(stack, logical_id, "DELETE_IN_PROGRESS")
    try:
        _check_deletable(resource, resource_map)
        resource_map._delete_resource(resource, resource_json)
    except Exception as error:
        reason = _reason(error)
        _resource_event(stack, logical_id, "DELETE_FAILED", reason)
        return reason
    _resource_event(stack, logical_id, "DELETE_COMPLETE")
    resource_map._parsed_resources.pop(logical_id, None)
    return None


class _BucketNotEmpty(ServiceException):
    code = "BucketNotEmpty"
    message = "The bucket you tried to delete is not empty"


def _check_deletable(resource: Any, resource_map: Any) -> None:
    """CloudFormation cannot delete a bucket that holds objects or versions.

    moto's bucket handler swallows S3's BucketNotEmpty and reports success
    while the bucket stays; here it fails like DeleteBucket does.
    """
    if getattr(resource, "cf_resource_type", None) != "AWS::S3::Bucket":
        return
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[resource_map._account_id][get_partition(resource_map._region_name)]
    bucket = backend.buckets.get(resource.name)
    if bucket is not None and bucket.keys:  # any object, version or delete marker
        raise _BucketNotEmpty()


def _delete_all(stack: Any, resources: dict[str, Any], only: list[str] | None = None) -> list[str]:
    """Deletes resources in reverse dependency order; returns those that failed.

    A resource something failed-to-delete depends on is left alone (it is
    still in use), as CloudFormation does.
    """
    order = [lid for lid in reversed(dependency_order(resources)) if only is None or lid in only]
    failed: list[str] = []
    for logical_id in order:
        if logical_id not in stack.resource_map._parsed_resources:
            continue
        blocked = [f for f in failed if logical_id in _dependencies(resources, f)]
        if blocked:
            failed.append(logical_id)
            continue
        if _delete_one(stack, logical_id, resources[logical_id]) is not None:
            failed.append(logical_id)
    return failed


# --------------------------------------------------------------------------
# ExecuteChangeSet
# --------------------------------------------------------------------------


def _run_create(stack: Any, change_set: Any) -> None:
    """A first create: resources in dependency order; on failure, roll back
    (delete what was made) and settle in ROLLBACK_COMPLETE."""
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = dict(change_set.parameters)
    stack.resource_map = stack._create_resource_map()
    stack.resource_map.tags.update(
        {"aws:cloudformation:stack-name": stack.name, "aws:cloudformation:stack-id": stack.stack_id}
    )
    stack.status = "CREATE_IN_PROGRESS"
    _stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    resources = stack.resource_map._resource_json_map
    try:
        for logical_id in dependency_order(resources):
            _create_one(stack, logical_id)
    except _ResourceFailed as failure:
        stack.status = "ROLLBACK_IN_PROGRESS"
        _stack_event(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.",
        )
        failed = _delete_all(stack, resources)
        _settle(stack, keep_outputs=False)
        stack.status = "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE"
        _stack_event(stack, stack.status)
        return
    _settle(stack, keep_outputs=True)
    stack.status = "CREATE_COMPLETE"
    _stack_event(stack, "CREATE_COMPLETE")


def _load_template(resource_map: Any, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Points a resource map at a template and parameters (as moto's update does)."""
    resource_map._template = template
    resource_map.input_parameters = parameters
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]


def _run_update(stack: Any, change_set: Any) -> None:
    """An update: adds and modifications in dependency order (a replaced
    resource's dependents are updated too, since their Refs changed), removals
    last (the cleanup phase). On failure: undo and settle in
    UPDATE_ROLLBACK_COMPLETE with the old template, parameters and outputs."""
    resource_map = stack.resource_map
    old_template = stack.template_dict
    old_parameters = dict(resource_map.input_parameters)
    new_template = change_set.template_dict
    diff = resource_map.build_resource_diff(new_template, change_set.parameters)
    resource_map.testkit_settled = False
    stack.status = "UPDATE_IN_PROGRESS"
    _stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    _load_template(resource_map, new_template, change_set.parameters)
    new_resources = new_template["Resources"]
    added: list[str] = []
    modified: list[str] = []
    to_modify = set(diff["Modify"])
    try:
        for logical_id in dependency_order(new_resources):
            if logical_id in diff["Add"]:
                added.append(logical_id)
                _create_one(stack, logical_id)
            elif logical_id in to_modify and logical_id in resource_map._parsed_resources:
                modified.append(logical_id)
                if _update_one(stack, logical_id):
                    to_modify |= {d for d in new_resources if logical_id in _dependencies(new_resources, d)}
    except _ResourceFailed:
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        _stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update or create. Rollback requested by user.")
        _delete_all(stack, new_resources, only=added)
        _load_template(resource_map, old_template, old_parameters)
        for logical_id in modified:
            try:
                _update_one(stack, logical_id)
            except _ResourceFailed:
                pass  # best effort: the stack still settles, as its events say
        _settle(stack, keep_outputs=True)
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")
        return
    stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    _stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    old_resources = old_template.get("Resources", {})
    # Deleting needs the old definitions; the resource map already holds the new ones.
    resource_map._resource_json_map = {**old_resources, **new_resources}
    _delete_all(stack, old_resources, only=diff["Remove"])
    resource_map._resource_json_map = new_resources
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = dict(change_set.parameters)
    _settle(stack, keep_outputs=True)
    stack.status = "UPDATE_COMPLETE"
    _stack_event(stack, "UPDATE_COMPLETE")


def execute_change_set_runs_like_cloudformation(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Restores: dependency order, resource events, rollback on failure
    (ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE instead of an API error and
    a stack stuck IN_PROGRESS), refreshed outputs and parameters, and other
    change sets of the stack deleted after an execution."""
    change_set = _find_change_set(self, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status of [{change_set.execution_status}]"
        )
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    stack.stack_status_reason = None
    stack.change_set_id = change_set.change_set_id
    if change_set.change_set_type == "UPDATE":
        stack.last_updated_time = utcnow()
    if change_set.change_set_type == "CREATE":
        _run_create(stack, change_set)
    else:
        _run_update(stack, change_set)
    change_set.execution_status = "EXECUTE_COMPLETE" if stack.status.endswith("_COMPLETE") and "ROLLBACK" not in stack.status else "EXECUTE_FAILED"
    for other_id, other in list(self.change_sets.items()):
        if other.stack_id == stack.stack_id and other is not change_set:
            del self.change_sets[other_id]


# --------------------------------------------------------------------------
# DeleteStack
# --------------------------------------------------------------------------


def delete_stack_fails_like_cloudformation(self: Any, name_or_stack_id: str) -> None:
    """Restores: resources deleted in reverse dependency order with events; a
    resource that cannot go (a bucket with objects) is DELETE_FAILED with the
    reason and the stack DELETE_FAILED, still listed; deleting again after
    fixing it finishes the job."""
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None
    )
    if stack is None:
        return  # DeleteStack of a stack that does not exist succeeds silently
    stack.status = "DELETE_IN_PROGRESS"
    stack.stack_status_reason = None
    stack.deletion_time = utcnow()
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    stack.resource_map.testkit_settled = True  # outputs keep their last values
    failed = _delete_all(stack, stack.resource_map._resource_json_map)
    if failed:
        stack.status = "DELETE_FAILED"
        _stack_event(
            stack, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
        )
        return
    stack.status = "DELETE_COMPLETE"
    _stack_event(stack, "DELETE_COMPLETE")
    for export in stack.exports:
        self.exports.pop(export.name, None)
    self.stacks.pop(stack.stack_id, None)
    self.deleted_stacks[stack.stack_id] = stack
    for change_set_id, change_set in list(self.change_sets.items()):
        if change_set.stack_id == stack.stack_id:
            del self.change_sets[change_set_id]


# --------------------------------------------------------------------------
# Change sets: creation, lookup
# --------------------------------------------------------------------------


class _ChangeSetNotFound(ServiceException):
    code = "ChangeSetNotFound"


def _find_change_set(backend: Any, name: str, stack_name: str | None) -> Any:
    """A change set by ARN, or by name within the named stack (change set
    names are only unique per stack in CloudFormation)."""
    if name in backend.change_sets:
        return backend.change_sets[name]
    for change_set in reversed(list(backend.change_sets.values())):
        if change_set.change_set_name == name and (
            not stack_name or stack_name in (change_set.stack_name, change_set.stack_id)
        ):
            return change_set
    raise _ChangeSetNotFound(f"ChangeSet [{name}] does not exist")


def _check_parameter_constraints(template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """CloudFormation checks AllowedPattern, AllowedValues, MinLength and
    MaxLength of String parameters at CreateChangeSet; moto checked none."""
    for name, value in _resolved_parameters(template, parameters).items():
        slot = template["Parameters"][name]
        if value is None or slot.get("Type", "String") != "String":
            continue
        text = str(value)
        ok = (
            ("AllowedPattern" not in slot or re.fullmatch(slot["AllowedPattern"], text) is not None)
            and ("AllowedValues" not in slot or text in [str(v) for v in slot["AllowedValues"]])
            and ("MinLength" not in slot or len(text) >= int(slot["MinLength"]))
            and ("MaxLength" not in slot or len(text) <= int(slot["MaxLength"]))
        )
        if ok:
            continue
        if "ConstraintDescription" in slot:
            raise ValidationError(message=f"Parameter {name} failed to satisfy constraint: {slot['ConstraintDescription']}")
        if "AllowedPattern" in slot and re.fullmatch(slot["AllowedPattern"], text) is None:
            raise ValidationError(message=f"Parameter '{name}' must match pattern {slot['AllowedPattern']}")
        raise ValidationError(message=f"Parameter '{name}' failed to satisfy its constraints")


def _unknown_types(template: dict[str, Any]) -> list[str]:
    known = parsing.get_model_map()
    return sorted(
        {
            r.get("Type", "")
            for r in (template.get("Resources") or {}).values()
            if r.get("Type") not in known
            and r.get("Type") not in parsing.NULL_MODELS
            and not str(r.get("Type", "")).startswith("Custom::")
        }
    )


def _validate_template(backend: Any, stack_name: str, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Checks CloudFormation makes at CreateChangeSet: known types, all
    parameters given, valid outputs. (moto would fail later, or resolve a Ref
    to an unknown type to null.)"""
    unknown = _unknown_types(template)
    if unknown:
        raise ValidationError(message=f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")
    if "Resources" not in template:
        raise ValidationError(message="Template format error: At least one Resources member must be defined.")
    missing = [name for name, value in _resolved_parameters(template, parameters).items() if value is None]
    if missing:
        raise ValidationError(message=f"Parameters: [{', '.join(missing)}] must have values")
    _check_parameter_constraints(template, parameters)
    probe = parsing.ResourceMap(
        "probe", stack_name, parameters, {}, region_name=backend.region_name,
        account_id=backend.account_id, template=template, cross_stack_resources=backend.exports,
    )
    probe.load()


def create_change_set_like_cloudformation(original: Any) -> Any:
    """Restores: a CREATE change set for an existing stack is refused (moto
    made a second stack of that name) unless the stack is still in review; a
    name already used in the stack is refused; the template is validated up
    front; an unchanged UPDATE change set is FAILED "didn't contain changes"
    whatever parameters were passed; and each change carries Replacement."""

    def create_change_set(self: Any, stack_name: str, change_set_name: str, template: str,
                          parameters: dict[str, str], description: str, change_set_type: str,
                          notification_arns: Any = None, tags: Any = None, role_arn: Any = None) -> Any:
        existing = next((s for s in self.stacks.values() if s.name == stack_name), None)
        if change_set_type == "CREATE" and existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
        if change_set_type == "UPDATE" and existing is not None and existing.status in (
            "REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED",
        ):
            raise ValidationError(
                message=f"Stack:{existing.stack_id} is in {existing.status} state and can not be updated."
            )
        if existing is not None and any(
            cs.change_set_name == change_set_name and cs.stack_id == existing.stack_id
            for cs in self.change_sets.values()
        ):
            raise AlreadyExistsException(f"ChangeSet {change_set_name} already exists")
        template_dict = cfn_models.Stack.parse_template(template)
        if change_set_type == "UPDATE" and existing is not None:
            parameters = {**_previous_values(existing, template_dict, parameters)}
        _validate_template(self, stack_name, template_dict, parameters)
        if change_set_type == "CREATE" and existing is not None:
            # A stack still in review gets a new CREATE change set, no second stack.
            self.stacks.pop(existing.stack_id)
            try:
                change_set_id, stack_id = original(self, stack_name, change_set_name, template, parameters,
                                                   description, change_set_type, notification_arns, tags, role_arn)
            finally:
                self.stacks.setdefault(existing.stack_id, existing)
            new_stack_id = self.change_sets[change_set_id].stack_id
            if new_stack_id != existing.stack_id:
                self.stacks.pop(new_stack_id, None)
                change_set = self.change_sets[change_set_id]
                change_set.stack = existing
                change_set.stack_id = existing.stack_id
            return change_set_id, existing.stack_id
        change_set_id, stack_id = original(self, stack_name, change_set_name, template, parameters,
                                           description, change_set_type, notification_arns, tags, role_arn)
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[stack_id]
        if change_set_type == "UPDATE":
            unchanged = stack.template_dict == template_dict and _resolved_parameters(
                stack.template_dict, stack.parameters
            ) == _resolved_parameters(template_dict, parameters)
            if unchanged:
                change_set.status = "FAILED"
                change_set.execution_status = "UNAVAILABLE"
                change_set.status_reason = (
                    "The submitted information didn't contain changes. "
                    "Submit different information to create a change set."
                )
                change_set.changes = []
            else:
                change_set.status = "CREATE_COMPLETE"
                change_set.execution_status = "AVAILABLE"
                change_set.status_reason = None
        _describe_changes(stack, change_set, template_dict, parameters)
        return change_set_id, stack_id

    return create_change_set


def _previous_values(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters not passed in an UPDATE keep their previous value when the
    template has no default (moto only honoured explicit UsePreviousValue)."""
    merged = dict(parameters)
    for name, slot in (template.get("Parameters") or {}).items():
        if name not in merged and "Default" not in slot and name in stack.parameters:
            merged[name] = stack.parameters[name]
    return merged


# Properties whose change makes CloudFormation replace the resource (new
# physical id), for the types our stack uses.  Used for the change set's
# `Replacement` field, which the product shows to the user.
REPLACING_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::Cognito::UserPoolClient": ("GenerateSecret", "UserPoolId"),
    "AWS::Cognito::UserPoolDomain": ("Domain", "UserPoolId"),
    "AWS::Cognito::UserPool": ("UsernameAttributes", "AliasAttributes"),
    "AWS::DynamoDB::Table": ("TableName", "KeySchema"),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::S3::BucketPolicy": ("Bucket",),
    "AWS::IAM::Role": ("RoleName", "Path"),
    "AWS::Lambda::Function": ("FunctionName", "PackageType"),
    "AWS::Lambda::Permission": ("Action", "FunctionName", "Principal", "SourceArn", "SourceAccount", "EventSourceToken"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::SSM::Parameter": ("Name",),
    "AWS::ApiGateway::RestApi": (),
    "AWS::ApiGateway::Resource": ("ParentId", "PathPart", "RestApiId"),
    "AWS::ApiGateway::Method": ("HttpMethod", "ResourceId", "RestApiId"),
    "AWS::ApiGateway::Deployment": ("RestApiId", "DeploymentCanarySettings"),
    "AWS::ApiGateway::Stage": ("RestApiId", "StageName"),
    "AWS::ApiGateway::Authorizer": ("RestApiId",),
}


def _describe_changes(stack: Any, change_set: Any, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Adds PhysicalResourceId, Replacement and Scope to each change, as
    DescribeChangeSet shows them in CloudFormation."""
    old_resources = stack.template_dict.get("Resources", {}) if stack.template_dict else {}
    new_resources = template.get("Resources", {})
    changed_parameters = {
        name for name, value in _resolved_parameters(template, parameters).items()
        if _resolved_parameters(stack.template_dict or {}, stack.parameters).get(name) != value
    }
    # moto diffed the template only, so a parameter-only change showed no changes.
    if change_set.changes or change_set.status != "FAILED":
        by_action = stack.resource_map.build_resource_diff(template, parameters)
        change_set.changes = [
            cfn_models.Change(action, logical_id, (new_resources.get(logical_id) or old_resources.get(logical_id))["Type"])
            for action in ("Add", "Modify", "Remove")
            for logical_id in by_action[action]
        ]
    for change in change_set.changes:
        resource = stack.resource_map._parsed_resources.get(change.logical_resource_id)
        if _is_resource(resource) and change.action != "Add":
            change.physical_resource_id = getattr(resource, "physical_resource_id", None)
        if change.action != "Modify":
            continue
        old = old_resources.get(change.logical_resource_id, {}).get("Properties", {})
        new = new_resources.get(change.logical_resource_id, {}).get("Properties", {})
        scope = [p for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)
                 or _references(new.get(p)) & changed_parameters]
        replacing = REPLACING_PROPERTIES.get(change.resource_type, ())
        change.replacement = "True" if any(p in replacing for p in scope) else "False"
        change.scope = ["Properties"]


class _InsufficientCapabilities(ServiceException):
    code = "InsufficientCapabilitiesException"


_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def _check_capabilities(template: dict[str, Any], capabilities: list[str]) -> None:
    """A template with IAM resources needs CAPABILITY_IAM, or
    CAPABILITY_NAMED_IAM when it names them (moto asked for neither)."""
    resources = (template.get("Resources") or {}).values()
    iam = [r for r in resources if str(r.get("Type", "")).startswith("AWS::IAM::")]
    if not iam:
        return
    named = any(_NAMED_IAM.get(r["Type"]) in (r.get("Properties") or {}) for r in iam)
    needed = "CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"
    if needed in capabilities or (needed == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in capabilities):
        return
    raise _InsufficientCapabilities(f"Requires capabilities : [{needed}]")


def _create_change_set_checks(original: Any) -> Any:
    """CreateChangeSet never answers "No updates are to be performed."
    (that is UpdateStack's answer: an unchanged change set is created FAILED),
    and it refuses IAM resources without the IAM capability."""

    def create_change_set(self: Any) -> Any:
        self._validate_different_update = lambda *args, **kwargs: None
        body = self._get_param("TemplateBody")
        if not body and self._get_bool_param("UsePreviousTemplate", False):
            body = self.cloudformation_backend.get_stack(self._get_param("StackName")).template
        if body:
            _check_capabilities(cfn_models.Stack.parse_template(body), self._get_param("Capabilities") or [])
        return original(self)

    return create_change_set


def _with_client_request_token(original: Any) -> Any:
    """Events of an ExecuteChangeSet/DeleteStack carry its ClientRequestToken,
    as CloudFormation's do (clients use it to pick their operation's events)."""

    def handler(self: Any) -> Any:
        _REQUEST.token = self._get_param("ClientRequestToken")
        try:
            return original(self)
        finally:
            _REQUEST.token = None

    return handler


def _scoped_to_stack(action: str) -> Any:
    """DescribeChangeSet/DeleteChangeSet find the change set within StackName."""

    def handler(self: Any) -> Any:
        backend = self.cloudformation_backend
        change_set = _find_change_set(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
        if action == "describe":
            return cfn_responses.ActionResult(change_set)
        backend.change_sets.pop(change_set.change_set_id, None)
        return cfn_responses.EmptyResult()

    return handler


def _list_change_sets_of_stack(self: Any) -> Any:
    """ListChangeSets lists the change sets of StackName only."""
    stack_name = self._get_param("StackName")
    summaries = [
        cs for cs in self.cloudformation_backend.change_sets.values()
        if not stack_name or stack_name in (cs.stack_name, cs.stack_id)
    ]
    return cfn_responses.ActionResult({"Summaries": summaries})


def _list_stack_resources_with_status(self: Any) -> Any:
    """ListStackResources reports each resource's own status (moto said
    CREATE_COMPLETE for all, even one whose delete failed)."""
    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    statuses = _statuses(stack)
    summaries = []
    for resource in resources:
        if not _is_resource(resource):
            continue
        logical_id = getattr(resource, "logical_resource_id", "")
        summaries.append({
            "ResourceStatus": statuses.get(logical_id, "CREATE_COMPLETE"),
            "LogicalResourceId": logical_id,
            "LastUpdatedTimestamp": stack.creation_time,
            "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
            "ResourceType": getattr(resource, "cf_resource_type", ""),
        })
    return cfn_responses.ActionResult({"StackResourceSummaries": summaries})


def _stack_resources_are_created_ones(original: Any) -> Any:
    """Stack.stack_resources lists only resources that exist (moto's listed
    every template entry, creating missing ones on the way)."""

    def stack_resources(self: Any) -> Any:
        return [r for r in self.resource_map._parsed_resources.values() if _is_resource(r)]

    return property(stack_resources)


def _references_include_sub(original: Any) -> Any:
    """moto decides which unchanged resources a parameter change modifies by
    looking for `Ref` only; CloudFormation also sees `${Param}` in Fn::Sub."""

    def get_references_from_template(template: Any) -> list[str]:
        return sorted(_references(template))

    return get_references_from_template


def _is_plain_http_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    for operator, tests in condition.items():
        if operator.startswith("Bool") and isinstance(tests, dict):
            for key, value in tests.items():
                values = value if isinstance(value, list) else [value]
                if key.lower() == "aws:securetransport" and [str(v).lower() for v in values] == ["false"]:
                    return True
    return False


def _requests_count_as_tls(original: Any) -> Any:
    """A request to this loopback server stands in for an HTTPS request to
    AWS, so a TLS-only statement (Deny when `aws:SecureTransport` is false)
    never matches.  moto ignores conditions and applied such a Deny to every
    request, so a TLS-only bucket refused all object reads and writes.  Every
    other statement of the policy is still enforced as moto does."""

    def get_permission(self: Any, action: str, resource: str) -> Any:
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        try:
            document = json.loads(self.policy.decode())
        except ValueError:
            return original(self, action, resource)
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for s in statements if not (s.get("Effect") == "Deny" and _is_plain_http_deny(s))]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)

    return get_permission


# --------------------------------------------------------------------------
# AWS::Lambda::Function
# --------------------------------------------------------------------------


def _check_code_exists(properties: dict[str, Any], account_id: str, region_name: str) -> None:
    """Lambda fails a function whose S3 code object is missing; moto made it with empty code."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    code = properties.get("Code") or {}
    if "S3Bucket" not in code:
        return
    backend = s3_backends[account_id][get_partition(region_name)]
    bucket = backend.buckets.get(code["S3Bucket"])
    if bucket is None:
        raise InvalidParameterValueException(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist"
        )
    if code.get("S3Key") not in bucket.keys or backend.get_object(code["S3Bucket"], code["S3Key"]) is None:
        raise InvalidParameterValueException(
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
        )


def _logging_config(function: Any, properties: dict[str, Any]) -> None:
    """Keeps `LoggingConfig` (moto 5.2.5's Lambda has none) and `Architectures`
    (moto's CloudFormation handler dropped it)."""
    given = properties.get("LoggingConfig") or {}
    config = {"LogFormat": given.get("LogFormat", "Text"), "LogGroup": given.get("LogGroup", f"/aws/lambda/{function.function_name}")}
    if config["LogFormat"] == "JSON":
        config["ApplicationLogLevel"] = given.get("ApplicationLogLevel", "INFO")
        config["SystemLogLevel"] = given.get("SystemLogLevel", "INFO")
    function.testkit_logging_config = config
    if "Architectures" in properties:
        function.architectures = properties["Architectures"]


def _lambda_function_like_cloudformation() -> None:
    """AWS::Lambda::Function: missing S3 code fails the resource (as Lambda
    does), `LoggingConfig` and `Architectures` are applied and shown by
    GetFunction."""
    from moto.awslambda.models import LambdaFunction

    create = LambdaFunction.create_from_cloudformation_json.__func__
    update = LambdaFunction.update_from_cloudformation_json.__func__
    configuration = LambdaFunction.get_configuration

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        _check_code_exists(properties, account_id, region_name)
        function = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _logging_config(function, properties)
        return function

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        _check_code_exists(properties, account_id, region_name)
        function = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _logging_config(function, properties)
        return function

    def get_configuration(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        config = configuration(self, *args, **kwargs)
        if getattr(self, "testkit_logging_config", None):
            config["LoggingConfig"] = self.testkit_logging_config
        return config

    LambdaFunction.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    LambdaFunction.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    LambdaFunction.get_configuration = get_configuration


# --------------------------------------------------------------------------
# AWS::S3::Bucket
# --------------------------------------------------------------------------


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the PutBucketLifecycleConfiguration shape moto parses."""
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    expiration = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = rule["ExpirationInDays"]
    if "ExpirationDate" in rule:
        expiration["Date"] = rule["ExpirationDate"]
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = rule["ExpiredObjectDeleteMarker"]
    if expiration:
        api["Expiration"] = expiration
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = dict(rule["NoncurrentVersionExpiration"])
    elif "NoncurrentVersionExpirationInDays" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = dict(rule["AbortIncompleteMultipartUpload"])
    if "Transitions" in rule:
        api["Transition"] = [{"Days": t.get("TransitionInDays"), "Date": t.get("TransitionDate"), "StorageClass": t["StorageClass"]} for t in rule["Transitions"]]
    if "NoncurrentVersionTransitions" in rule:
        api["NoncurrentVersionTransition"] = [{"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]} for t in rule["NoncurrentVersionTransitions"]]
    return api


def _configure_bucket(name: str, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    """Applies the bucket properties the product sets; moto's handler applied
    only BucketEncryption (without BucketKeyEnabled) and Tags: versioning,
    public access block, lifecycle rules and ownership controls were silently
    dropped."""
    from moto.s3.models import s3_backends
    from moto.s3.cloud_formation import cfn_to_api_encryption
    from moto.utilities.tagging_service import TaggingService
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(region_name)]
    if "BucketEncryption" in properties:
        encryption = cfn_to_api_encryption(properties["BucketEncryption"])
        first = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        if "BucketKeyEnabled" in first:
            encryption["Rule"]["BucketKeyEnabled"] = first["BucketKeyEnabled"]
        backend.put_bucket_encryption(name, encryption)
    ownership = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if ownership:
        backend.put_bucket_ownership_controls(name, ownership[0]["ObjectOwnership"])
    if "Tags" in properties:
        backend.put_bucket_tagging(name, TaggingService().flatten_tag_list(properties["Tags"]))
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(name, versioning)
    if "PublicAccessBlockConfiguration" in properties:
        backend.put_public_access_block(name, properties["PublicAccessBlockConfiguration"])
    elif backend.buckets[name].public_access_block is not None:
        backend.delete_public_access_block(name)
    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in rules])
    elif backend.buckets[name].rules:
        backend.delete_bucket_lifecycle(name)


def _bucket_like_cloudformation() -> None:
    """AWS::S3::Bucket: all of versioning, encryption, public access block,
    lifecycle and tags applied on create and on in-place update."""
    from moto.s3.models import FakeBucket

    create = FakeBucket.create_from_cloudformation_json.__func__
    update = FakeBucket.update_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        bucket = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _configure_bucket(bucket.name, cloudformation_json.get("Properties") or {}, account_id, region_name)
        return bucket

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json.get("Properties") or {}
        if properties.get("BucketName", original_resource.name) != original_resource.name:
            return update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _configure_bucket(original_resource.name, properties, account_id, region_name)
        return original_resource

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


# --------------------------------------------------------------------------
# Resources are made by stack operations only
# --------------------------------------------------------------------------


def _no_creation_outside_operations(original: Any) -> Any:
    """moto creates resources lazily on first lookup, so evaluating Outputs
    (DescribeStacks) after a rollback or a delete created the missing
    resources again.  Once a stack operation of ours has settled, a lookup
    of a resource that does not exist answers None instead."""

    def getitem(self: Any, key: str) -> Any:
        if getattr(self, "testkit_settled", False) and key not in self._parsed_resources and key in self._resource_json_map:
            return None
        return original(self, key)

    return getitem


def _settle(stack: Any, keep_outputs: bool) -> None:
    """Ends an operation: outputs are computed now (moto caches them), or
    dropped, and the resource map stops creating resources on lookup."""
    resource_map = stack.resource_map
    if keep_outputs:
        stack.output_map = stack._create_output_map()
        resource_map.testkit_settled = False
        list(stack.output_map.values())
    else:
        stack.output_map = parsing.OutputMap(resource_map, {}, stack.stack_id)
    resource_map.testkit_settled = True


def apply() -> None:
    """Installs every patch (idempotent per process is not needed: call once)."""
    backend = cfn_models.CloudFormationBackend
    backend.execute_change_set = execute_change_set_runs_like_cloudformation
    backend.delete_stack = delete_stack_fails_like_cloudformation
    backend.create_change_set = create_change_set_like_cloudformation(backend.create_change_set)
    backend.describe_change_set = lambda self, change_set_name: _find_change_set(self, change_set_name, None)

    response = cfn_responses.CloudFormationResponse
    response.create_change_set = _create_change_set_checks(response.create_change_set)
    response.execute_change_set = _with_client_request_token(response.execute_change_set)
    response.delete_stack = _with_client_request_token(response.delete_stack)
    response.describe_change_set = _scoped_to_stack("describe")
    response.delete_change_set = _scoped_to_stack("delete")
    response.list_change_sets = _list_change_sets_of_stack
    response.list_stack_resources = _list_stack_resources_with_status

    cfn_models.Stack.stack_resources = _stack_resources_are_created_ones(cfn_models.Stack.stack_resources)
    parsing.get_references_from_template = _references_include_sub(parsing.get_references_from_template)

    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = _requests_count_as_tls(FakeBucket.get_permission)
    _lambda_function_like_cloudformation()
    _bucket_like_cloudformation()
    parsing.ResourceMap.__getitem__ = _no_creation_outside_operations(parsing.ResourceMap.__getitem__)
