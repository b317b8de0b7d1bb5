"""Makes moto 5.2.5's CloudFormation (and Cognito) behave like the real services.

The product is written for AWS CloudFormation, never for moto, so where moto
differs, the test server is made to behave like CloudFormation.  `apply()`
installs every patch; each is a small named function in one of the modules
below, whose docstring says which CloudFormation behaviour it restores.  Each
difference was first reproduced with boto3 against an unpatched server.

- `stack_operations`: ExecuteChangeSet and DeleteStack run resource by
  resource in dependency order with resource events; a failed create rolls
  back to ROLLBACK_COMPLETE, a failed update to UPDATE_ROLLBACK_COMPLETE, a
  delete blocked by a non-empty bucket ends DELETE_FAILED; outputs are
  refreshed after an execution and never re-create deleted resources.
- `change_sets`: an unchanged UPDATE change set is FAILED "didn't contain
  changes"; change sets are scoped to their stack; templates, parameters and
  IAM capabilities are checked at CreateChangeSet; changes carry
  `Replacement`; parameter-only changes are seen. CreateStack/UpdateStack
  run the same way as executed change sets.
- `resource_fixes`: TLS-only bucket policies do not deny this plain-http
  server; bucket versioning, public access block, lifecycle and ownership are
  applied; a Lambda function with missing S3 code fails, keeps LoggingConfig
  and Architectures; a table gets SSE and point-in-time recovery and can be
  updated; a log group's retention and a role's policies can be updated.
- `cognito_fixes`: user pools with `CaseSensitive=false` find a user whatever
  the case; the ID token's `email` is the stored address, `email_verified` is
  a boolean claim, and a `nonce` passed in InitiateAuth's ClientMetadata
  becomes a claim (the hosted-UI stand-in's channel for it).
- `stack_settings`: termination protection can be turned on and off
  (UpdateTerminationProtection) and a protected stack refuses DeleteStack;
  an executed UPDATE change set's tags become the stack's.
- `cfn_types` (registered separately) adds the Cognito, API Gateway
  authorizer/stage, bucket policy and Lambda permission types.

What stays moto's: the remaining per-type handlers, intrinsic functions,
parameters and conditions.
"""

from __future__ import annotations

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.s3.models import FakeBucket

import change_sets
import cognito_fixes
import resource_fixes
import stack_operations
import stack_settings


def apply() -> None:
    """Installs every patch; call once, before the server starts."""
    backend = cfn_models.CloudFormationBackend
    backend.execute_change_set = change_sets.execute_change_set_runs_like_cloudformation
    backend.create_change_set = change_sets.create_change_set_like_cloudformation(backend.create_change_set)
    backend.describe_change_set = lambda self, change_set_name: change_sets.find_change_set(self, change_set_name, None)
    backend.delete_stack = stack_operations.delete_stack_fails_like_cloudformation
    backend.create_stack = change_sets.create_stack_like_cloudformation
    backend.update_stack = change_sets.update_stack_like_cloudformation

    response = cfn_responses.CloudFormationResponse
    response.create_change_set = change_sets.create_change_set_checks(response.create_change_set)
    response.create_stack = stack_operations.with_client_request_token(change_sets.create_stack_checks(response.create_stack))
    response.update_stack = stack_operations.with_client_request_token(change_sets.create_stack_checks(response.update_stack))
    response.describe_change_set = change_sets.scoped_to_stack("describe")
    response.delete_change_set = change_sets.scoped_to_stack("delete")
    response.list_change_sets = change_sets.list_change_sets_of_stack
    response.execute_change_set = stack_operations.with_client_request_token(response.execute_change_set)
    response.delete_stack = stack_operations.with_client_request_token(response.delete_stack)
    response.list_stack_resources = stack_operations.list_stack_resources_with_status

    cfn_models.Stack.stack_resources = stack_operations.stack_resources_are_created_ones(cfn_models.Stack.stack_resources)
    parsing.ResourceMap.__getitem__ = stack_operations.no_creation_outside_operations(parsing.ResourceMap.__getitem__)
    parsing.get_references_from_template = change_sets.references_include_sub(parsing.get_references_from_template)

    FakeBucket.get_permission = resource_fixes.requests_count_as_tls(FakeBucket.get_permission)
    resource_fixes.lambda_function_like_cloudformation()
    resource_fixes.bucket_like_cloudformation()
    resource_fixes.table_like_cloudformation()
    resource_fixes.log_group_like_cloudformation()
    resource_fixes.role_like_cloudformation()
    cognito_fixes.apply()
    stack_settings.apply()
