"""Change sets created, found and executed the way CloudFormation does.

moto 5.2.5 answers CreateChangeSet for an unchanged UPDATE with "No updates
are to be performed." (when every parameter is passed), finds change sets by
name across all stacks, makes a second stack for a CREATE change set of an
existing name, validates nothing up front (an unknown type is skipped and
every `Ref` to it is null), shows no change for a parameter-only update and
no `Replacement`, and never refreshes outputs or parameters after execution.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.core.exceptions import ServiceException
from moto.cloudformation.utils import generate_changeset_id, generate_stack_id
from moto.core.utils import utcnow

from stack_operations import is_resource, run_create, run_update
from template_graph import references, resolved_parameters

def execute_change_set_runs_like_cloudformation(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Restores: dependency order, resource events, rollback on failure
    (ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE instead of an API error and
    a stack stuck IN_PROGRESS), refreshed outputs and parameters, and other
    change sets of the stack deleted after an execution."""
    change_set = find_change_set(self, change_set_name, stack_name)
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
        run_create(stack, change_set)
    else:
        run_update(stack, change_set)
    change_set.execution_status = "EXECUTE_COMPLETE" if stack.status.endswith("_COMPLETE") and "ROLLBACK" not in stack.status else "EXECUTE_FAILED"
    for other_id, other in list(self.change_sets.items()):
        if other.stack_id == stack.stack_id and other is not change_set:
            del self.change_sets[other_id]


class _ChangeSetNotFound(ServiceException):
    code = "ChangeSetNotFound"


def find_change_set(backend: Any, name: str, stack_name: str | None) -> Any:
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
    for name, value in resolved_parameters(template, parameters).items():
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
    missing = [name for name, value in resolved_parameters(template, parameters).items() if value is None]
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
        if existing is not None:
            for change_set_id, change_set in list(self.change_sets.items()):
                if change_set.change_set_name != change_set_name or change_set.stack_id != existing.stack_id:
                    continue
                if change_set.execution_status.startswith("EXECUTE_"):
                    del self.change_sets[change_set_id]  # an executed one no longer holds its name
                else:
                    raise AlreadyExistsException(f"ChangeSet {change_set_name} already exists")
        template_dict = cfn_models.Stack.parse_template(template)
        if change_set_type == "UPDATE" and existing is not None:
            parameters = {**_previous_values(existing, template_dict, parameters)}
        _validate_template(self, stack_name, template_dict, parameters)
        if change_set_type == "CREATE" and existing is not None:
            # A stack still in review gets another CREATE change set, not a second stack.
            change_set_id = generate_changeset_id(change_set_name, self.region_name, self.account_id)
            change_set = cfn_models.ChangeSet(
                change_set_type, change_set_id, change_set_name, existing, template, parameters,
                description, notification_arns, tags, role_arn,
            )
            change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
            self.change_sets[change_set_id] = change_set
            return change_set_id, existing.stack_id
        change_set_id, stack_id = original(self, stack_name, change_set_name, template, parameters,
                                           description, change_set_type, notification_arns, tags, role_arn)
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[stack_id]
        if change_set_type == "UPDATE":
            if _unchanged(stack, template_dict, parameters):
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


def _unchanged(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Nothing to change: the stack already has this template and the same
    parameter values (given or default)."""
    return stack.template_dict == template and resolved_parameters(
        stack.template_dict, stack.parameters
    ) == resolved_parameters(template, parameters)


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
        name for name, value in resolved_parameters(template, parameters).items()
        if resolved_parameters(stack.template_dict or {}, stack.parameters).get(name) != value
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
        if is_resource(resource) and change.action != "Add":
            change.physical_resource_id = getattr(resource, "physical_resource_id", None)
        if change.action != "Modify":
            continue
        old = old_resources.get(change.logical_resource_id, {}).get("Properties", {})
        new = new_resources.get(change.logical_resource_id, {}).get("Properties", {})
        scope = [p for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)
                 or references(new.get(p)) & changed_parameters]
        replacing = REPLACING_PROPERTIES.get(change.resource_type, ())
        change.replacement = "True" if any(p in replacing for p in scope) else "False"
        change.scope = ["Properties"]
    _add_dependents_of_replacements(stack, change_set, new_resources)


def _add_dependents_of_replacements(stack: Any, change_set: Any, resources: dict[str, Any]) -> None:
    """A replaced resource gets a new physical id, so CloudFormation also
    lists the resources that reference it as modified (Replacement
    "Conditional" when a replacing property holds the reference)."""
    listed = {change.logical_resource_id for change in change_set.changes}
    replaced = {c.logical_resource_id for c in change_set.changes if getattr(c, "replacement", None) == "True"}
    for logical_id, resource in resources.items():
        if logical_id in listed:
            continue
        properties = resource.get("Properties") or {}
        holding = [p for p, v in properties.items() if references(v) & replaced]
        if not holding:
            continue
        change = cfn_models.Change("Modify", logical_id, resource["Type"])
        current = stack.resource_map._parsed_resources.get(logical_id)
        change.physical_resource_id = getattr(current, "physical_resource_id", None)
        replacing = REPLACING_PROPERTIES.get(resource["Type"], ())
        change.replacement = "Conditional" if any(p in replacing for p in holding) else "False"
        change.scope = ["Properties"]
        change_set.changes.append(change)


class _InsufficientCapabilities(ServiceException):
    code = "InsufficientCapabilitiesException"


_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def _check_capabilities(request: Any, body: str | None) -> None:
    """A request's template with IAM resources needs CAPABILITY_IAM, or
    CAPABILITY_NAMED_IAM when it names them (moto asked for neither)."""
    if not body:
        return
    template = cfn_models.Stack.parse_template(body)
    capabilities = request._get_param("Capabilities") or []
    resources = (template.get("Resources") or {}).values()
    iam = [r for r in resources if str(r.get("Type", "")).startswith("AWS::IAM::")]
    if not iam:
        return
    named = any(_NAMED_IAM.get(r["Type"]) in (r.get("Properties") or {}) for r in iam)
    needed = "CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"
    if needed in capabilities or (needed == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in capabilities):
        return
    raise _InsufficientCapabilities(f"Requires capabilities : [{needed}]")


def create_change_set_checks(original: Any) -> Any:
    """CreateChangeSet never answers "No updates are to be performed."
    (that is UpdateStack's answer: an unchanged change set is created FAILED),
    and it refuses IAM resources without the IAM capability."""

    def create_change_set(self: Any) -> Any:
        self._validate_different_update = lambda *args, **kwargs: None
        body = self._get_param("TemplateBody")
        if not body and self._get_bool_param("UsePreviousTemplate", False):
            body = self.cloudformation_backend.get_stack(self._get_param("StackName")).template
        _check_capabilities(self, body)
        return original(self)

    return create_change_set


def scoped_to_stack(action: str) -> Any:
    """DescribeChangeSet/DeleteChangeSet find the change set within StackName."""

    def handler(self: Any) -> Any:
        backend = self.cloudformation_backend
        change_set = find_change_set(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
        if action == "describe":
            return cfn_responses.ActionResult(change_set)
        backend.change_sets.pop(change_set.change_set_id, None)
        return cfn_responses.EmptyResult()

    return handler


def list_change_sets_of_stack(self: Any) -> Any:
    """ListChangeSets lists the active (not executed) change sets of StackName only."""
    stack_name = self._get_param("StackName")
    summaries = [
        cs for cs in self.cloudformation_backend.change_sets.values()
        if (not stack_name or stack_name in (cs.stack_name, cs.stack_id))
        and not cs.execution_status.startswith("EXECUTE_")
    ]
    return cfn_responses.ActionResult({"Summaries": summaries})


def references_include_sub(original: Any) -> Any:
    """moto decides which unchanged resources a parameter change modifies by
    looking for `Ref` only; CloudFormation also sees `${Param}` in Fn::Sub."""

    def get_references_from_template(template: Any) -> list[str]:
        return sorted(references(template))

    return get_references_from_template


# --------------------------------------------------------------------------
# CreateStack / UpdateStack: the same operations without a change set
# --------------------------------------------------------------------------


class _Direct:
    """What run_create/run_update read from a change set, for CreateStack/UpdateStack."""

    def __init__(self, template: str, parameters: dict[str, Any]):
        self.template = template
        self.template_dict = cfn_models.Stack.parse_template(template)
        self.parameters = parameters


def create_stack_like_cloudformation(self: Any, name: str, template: str, parameters: dict[str, Any],
                                     notification_arns: Any = None, tags: Any = None, role_arn: Any = None,
                                     enable_termination_protection: Any = False, timeout_in_mins: Any = None,
                                     stack_policy_body: Any = None) -> Any:
    """CreateStack runs like an executed CREATE change set: validated first,
    resources in dependency order with events, rollback to ROLLBACK_COMPLETE
    on failure (moto returned the resource's error and left the stack
    CREATE_IN_PROGRESS)."""
    if any(s.name == name for s in self.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    direct = _Direct(template, parameters)
    _validate_template(self, name, direct.template_dict, parameters)
    stack = cfn_models.Stack(
        stack_id=generate_stack_id(name, self.region_name, self.account_id), name=name, template={},
        parameters=parameters, account_id=self.account_id, region_name=self.region_name,
        notification_arns=notification_arns, tags=tags, role_arn=role_arn,
        cross_stack_resources=self.exports, enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins, stack_policy_body=stack_policy_body,
    )
    self.stacks[stack.stack_id] = stack
    run_create(stack, direct)
    return stack


def update_stack_like_cloudformation(self: Any, name: str, template: str, role_arn: Any,
                                     parameters: list[dict[str, Any]], tags: Any) -> Any:
    """UpdateStack runs like an executed UPDATE change set; an unchanged one
    answers "No updates are to be performed." whatever parameters were passed."""
    stack = self.get_stack(name)
    resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
    direct = _Direct(template, resolved)
    direct.parameters = _previous_values(stack, direct.template_dict, resolved)
    _validate_template(self, stack.name, direct.template_dict, direct.parameters)
    if _unchanged(stack, direct.template_dict, direct.parameters):
        raise ValidationError(message="No updates are to be performed.")
    stack.last_updated_time = utcnow()
    run_update(stack, direct)
    if tags is not None:
        stack.tags = tags
    return stack


def create_stack_checks(original: Any) -> Any:
    """CreateStack/UpdateStack refuse IAM resources without the IAM capability."""

    def handler(self: Any) -> Any:
        _check_capabilities(self, self._get_param("TemplateBody"))
        return original(self)

    return handler
