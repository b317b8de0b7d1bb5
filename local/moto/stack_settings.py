"""Stack-level settings moto 5.2.5 drops: termination protection (stored at
CreateStack but never enforced nor changeable) and the tags of an executed
UPDATE change set.

- `update_termination_protection`: the UpdateTerminationProtection action
  (moto has none), answering the stack id like CloudFormation.
- `delete_stack_refused_when_protected`: DeleteStack of a protected stack
  fails with CloudFormation's ValidationError and changes nothing.
- `execute_change_set_idempotent_by_token`: ExecuteChangeSet again with
  the ClientRequestToken of one already executed (a retry whose answer was
  lost) succeeds without running anything, as CloudFormation documents.
- `change_set_tags_applied_on_execution`: an UPDATE change set's tags
  become the stack's tags when it executes successfully (moto keeps them
  only for CREATE change sets).

DescribeStacks already reports `EnableTerminationProtection` from the
stored flag.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult

from stack_operations import find_stack


def _stack(backend: Any, name_or_id: str) -> Any:
    stack = find_stack(backend, name_or_id)
    if stack is None:
        raise ValidationError(name_or_id)
    return stack


def update_termination_protection(self: Any) -> Any:
    """Restores: UpdateTerminationProtection turns the flag on or off."""
    stack = _stack(self.cloudformation_backend, self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
    return ActionResult({"StackId": stack.stack_id})


def delete_stack_refused_when_protected(original: Any) -> Any:
    """Restores: a stack with termination protection cannot be deleted."""

    def handler(self: Any) -> Any:
        stack = find_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is not None and stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        return original(self)

    return handler


def change_set_tags_applied_on_execution(backend: Any) -> None:
    """Restores: an executed UPDATE change set sets the stack's tags."""
    create, execute = backend.create_change_set, backend.execute_change_set

    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        change_set_id, stack_id = create(self, *args, **kwargs)
        self.change_sets[change_set_id].requested_tags = kwargs.get("tags")
        return change_set_id, stack_id

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        from change_sets import find_change_set

        change_set = find_change_set(self, change_set_name, stack_name)
        execute(self, change_set_name, stack_name)
        tags = getattr(change_set, "requested_tags", None)
        if change_set.execution_status == "EXECUTE_COMPLETE" and tags is not None:
            self.stacks[change_set.stack_id].tags = tags

    backend.create_change_set = create_change_set
    backend.execute_change_set = execute_change_set


def execute_change_set_idempotent_by_token(original: Any) -> Any:
    """Restores: a retried ExecuteChangeSet (same token) is not a second request."""
    executed: dict[str, str] = {}

    def handler(self: Any) -> Any:
        token = self._get_param("ClientRequestToken")
        if token and token in executed:
            from moto.core.responses import EmptyResult

            return EmptyResult()
        result = original(self)
        if token:
            executed[token] = self._get_param("ChangeSetName")
        return result

    return handler


def apply() -> None:
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses

    change_set_tags_applied_on_execution(cfn_models.CloudFormationBackend)
    response = cfn_responses.CloudFormationResponse
    response.update_termination_protection = update_termination_protection
    response.delete_stack = delete_stack_refused_when_protected(response.delete_stack)
    response.execute_change_set = execute_change_set_idempotent_by_token(response.execute_change_set)
