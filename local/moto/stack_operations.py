"""Stack operations run the way CloudFormation runs them.

moto 5.2.5 creates a change set's new resources in template order (ignoring
`DependsOn`), lets a failing resource's error escape from ExecuteChangeSet
(the stack stays CREATE_IN_PROGRESS for ever), deletes a stack's resources in
no order and reports DELETE_COMPLETE even when a bucket is not empty (leaving
it), and records no resource events.  Here each resource is created, updated
or deleted on its own, in dependency order, with the events CloudFormation
records (`DescribeStackEvents`: ResourceStatus + ResourceStatusReason), and
failures roll back or fail the stack as CloudFormation does.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.core.exceptions import ServiceException
from moto.core.utils import utcnow

from template_graph import dependencies, dependency_order

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


def _stack_status(stack: Any, status: str, reason: str | None = None) -> None:
    """The stack enters `status`, with its stack event."""
    stack.status = status
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


def find_stack(backend: Any, name_or_id: str) -> Any | None:
    """A stack of the backend by name or stack id; None when there is none."""
    return next((s for s in backend.stacks.values() if name_or_id in (s.name, s.stack_id)), None)


def is_resource(value: Any) -> bool:
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
    if not is_resource(resource):
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
        blocked = [f for f in failed if logical_id in dependencies(resources, f)]
        if blocked:
            failed.append(logical_id)
            continue
        if _delete_one(stack, logical_id, resources[logical_id]) is not None:
            failed.append(logical_id)
    return failed


# --------------------------------------------------------------------------
# ExecuteChangeSet
# --------------------------------------------------------------------------


def _take_template(stack: Any, change_set: Any) -> None:
    """The stack takes the change set's template and parameters."""
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = dict(change_set.parameters)


def run_create(stack: Any, change_set: Any) -> None:
    """A first create: resources in dependency order; on failure, roll back
    (delete what was made) and settle in ROLLBACK_COMPLETE."""
    _take_template(stack, change_set)
    stack.resource_map = stack._create_resource_map()
    stack.resource_map.tags.update(
        {"aws:cloudformation:stack-name": stack.name, "aws:cloudformation:stack-id": stack.stack_id}
    )
    _stack_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
    resources = stack.resource_map._resource_json_map
    try:
        for logical_id in dependency_order(resources):
            _create_one(stack, logical_id)
    except _ResourceFailed as failure:
        _stack_status(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.",
        )
        failed = _delete_all(stack, resources)
        _settle(stack, keep_outputs=False)
        _stack_status(stack, "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE")
        return
    _settle(stack, keep_outputs=True)
    _stack_status(stack, "CREATE_COMPLETE")


def _load_template(resource_map: Any, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Points a resource map at a template and parameters (as moto's update does)."""
    resource_map._template = template
    resource_map.input_parameters = parameters
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]


def run_update(stack: Any, change_set: Any) -> None:
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
    _stack_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
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
                    to_modify |= {d for d in new_resources if logical_id in dependencies(new_resources, d)}
    except _ResourceFailed as failure:
        verb = "create" if failure.logical_id in added else "update"
        _stack_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", f"The following resource(s) failed to {verb}: [{failure.logical_id}]. ")
        _delete_all(stack, new_resources, only=added)
        _load_template(resource_map, old_template, old_parameters)
        for logical_id in modified:
            try:
                _update_one(stack, logical_id)
            except _ResourceFailed:
                pass  # best effort: the stack still settles, as its events say
        _settle(stack, keep_outputs=True)
        _stack_status(stack, "UPDATE_ROLLBACK_COMPLETE")
        return
    _stack_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    old_resources = old_template.get("Resources", {})
    # Deleting needs the old definitions; the resource map already holds the new ones.
    resource_map._resource_json_map = {**old_resources, **new_resources}
    _delete_all(stack, old_resources, only=diff["Remove"])
    resource_map._resource_json_map = new_resources
    _take_template(stack, change_set)
    _settle(stack, keep_outputs=True)
    _stack_status(stack, "UPDATE_COMPLETE")


# --------------------------------------------------------------------------
# DeleteStack
# --------------------------------------------------------------------------


def delete_stack_fails_like_cloudformation(self: Any, name_or_stack_id: str) -> None:
    """Restores: resources deleted in reverse dependency order with events; a
    resource that cannot go (a bucket with objects) is DELETE_FAILED with the
    reason and the stack DELETE_FAILED, still listed; deleting again after
    fixing it finishes the job."""
    stack = find_stack(self, name_or_stack_id)
    if stack is None:
        return  # DeleteStack of a stack that does not exist succeeds silently
    stack.stack_status_reason = None
    stack.deletion_time = utcnow()
    _stack_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
    stack.resource_map.testkit_settled = True  # outputs keep their last values
    failed = _delete_all(stack, stack.resource_map._resource_json_map)
    if failed:
        _stack_status(
            stack, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
        )
        return
    _stack_status(stack, "DELETE_COMPLETE")
    for export in stack.exports:
        self.exports.pop(export.name, None)
    self.stacks.pop(stack.stack_id, None)
    self.deleted_stacks[stack.stack_id] = stack
    for change_set_id, change_set in list(self.change_sets.items()):
        if change_set.stack_id == stack.stack_id:
            del self.change_sets[change_set_id]


# --------------------------------------------------------------------------
# Resources are made by stack operations only
# --------------------------------------------------------------------------


def no_creation_outside_operations(original: Any) -> Any:
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


def with_client_request_token(original: Any) -> Any:
    """Events of an ExecuteChangeSet/CreateStack/UpdateStack/DeleteStack carry its ClientRequestToken,
    as CloudFormation's do (clients use it to pick their operation's events)."""

    def handler(self: Any) -> Any:
        _REQUEST.token = self._get_param("ClientRequestToken")
        try:
            return original(self)
        finally:
            _REQUEST.token = None

    return handler


def list_stack_resources_with_status(self: Any) -> Any:
    """ListStackResources reports each resource's own status (moto said
    CREATE_COMPLETE for all, even one whose delete failed)."""
    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    statuses = _statuses(stack)
    summaries = []
    for resource in resources:
        if not is_resource(resource):
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


def stack_resources_are_created_ones(original: Any) -> Any:
    """Stack.stack_resources lists only resources that exist (moto's listed
    every template entry, creating missing ones on the way)."""

    def stack_resources(self: Any) -> Any:
        return [r for r in self.resource_map._parsed_resources.values() if is_resource(r)]

    return property(stack_resources)
