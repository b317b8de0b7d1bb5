"""Resource handlers of moto 5.2.5 fixed where they differ from CloudFormation
for the types the product's stacks use (S3 bucket and its TLS-only policy,
Lambda function)."""

from __future__ import annotations

import json
from typing import Any

def _is_plain_http_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    for operator, tests in condition.items():
        if operator.startswith("Bool") and isinstance(tests, dict):
            for key, value in tests.items():
                values = value if isinstance(value, list) else [value]
                if key.lower() == "aws:securetransport" and [str(v).lower() for v in values] == ["false"]:
                    return True
    return False


def requests_count_as_tls(original: Any) -> Any:
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


def lambda_function_like_cloudformation() -> None:
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


def bucket_like_cloudformation() -> None:
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
# AWS::DynamoDB::Table
# --------------------------------------------------------------------------


def _sse_for_api(properties: dict[str, Any]) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification (SSEEnabled) in the API's shape (Enabled)."""
    spec = properties.get("SSESpecification")
    if not spec:
        return None
    api = {"Enabled": bool(spec.get("SSEEnabled"))}
    if "SSEType" in spec:
        api["SSEType"] = spec["SSEType"]
    if "KMSMasterKeyId" in spec:
        api["KMSMasterKeyId"] = spec["KMSMasterKeyId"]
    return api


def _configure_table(table: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    """Settings moto's handler dropped (point-in-time recovery) or set only
    at creation (deletion protection, billing mode)."""
    from moto.dynamodb.models import dynamodb_backends

    pitr = (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled", False)
    dynamodb_backends[account_id][region_name].update_continuous_backups(
        table.name, {"PointInTimeRecoveryEnabled": bool(pitr)}
    )
    table.deletion_protection_enabled = bool(properties.get("DeletionProtectionEnabled", False))
    table.billing_mode = "PAY_PER_REQUEST" if properties.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"


def table_like_cloudformation() -> None:
    """AWS::DynamoDB::Table: SSESpecification and PointInTimeRecovery
    applied (moto passed CloudFormation's SSE shape to the API model, so SSE
    never showed, and ignored PITR), and updates handled: a new TableName or
    KeySchema replaces the table, other changes apply in place (moto had no
    update handler: every change was silently ignored)."""
    from moto.dynamodb.models.table import Table

    create = Table.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        api_json = {**cloudformation_json, "Properties": {**properties, "SSESpecification": _sse_for_api(properties)}}
        table = create(cls, resource_name, api_json, account_id, region_name, **kwargs)
        _configure_table(table, properties, account_id, region_name)
        table.testkit_properties = properties
        return table

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        old = getattr(original_resource, "testkit_properties", {})
        if new_resource_name != original_resource.name and "TableName" in properties or properties.get("KeySchema") != old.get("KeySchema"):
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return new
        _configure_table(original_resource, properties, account_id, region_name)
        original_resource.sse_specification = _sse_for_api(properties)
        original_resource.testkit_properties = properties
        return original_resource

    Table.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Table.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


# --------------------------------------------------------------------------
# AWS::Logs::LogGroup
# --------------------------------------------------------------------------


def log_group_like_cloudformation() -> None:
    """AWS::Logs::LogGroup: updates handled (moto had no update handler, so a
    new RetentionInDays was silently ignored); a new LogGroupName replaces it."""
    from moto.logs.models import LogGroup, logs_backends

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return new
        logs_backends[account_id][region_name].groups[original_resource.name].set_retention_policy(
            properties.get("RetentionInDays")
        )
        return original_resource

    LogGroup.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


# --------------------------------------------------------------------------
# AWS::IAM::Role
# --------------------------------------------------------------------------


def role_like_cloudformation() -> None:
    """AWS::IAM::Role: inline Policies are stored as JSON (GetRolePolicy
    answered a Python repr), and an update sets the trust policy, description
    and the inline Policies (added, changed and removed ones); moto's handler
    only touched the description, so a changed policy was silently kept. A
    new RoleName or Path replaces the role."""
    from moto.iam.models import Role

    create = Role.create_from_cloudformation_json.__func__
    update = Role.update_from_cloudformation_json.__func__

    def put_inline_policies(role: Any, properties: dict[str, Any]) -> None:
        # As JSON text: moto stored the template's dict, and GetRolePolicy
        # then answered its Python repr, which no client can parse.
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies", [])}
        for policy_name in list(role.policies):
            if policy_name not in wanted:
                role.delete_policy(policy_name)
        for policy_name, document in wanted.items():
            role.put_policy(policy_name, document if isinstance(document, str) else json.dumps(document))

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        role = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        put_inline_policies(role, cloudformation_json["Properties"])
        return role

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        name = properties.get("RoleName", original_resource.name)
        if name != original_resource.name or properties.get("Path", "/") != original_resource.path:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return new
        role = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        trust = properties["AssumeRolePolicyDocument"]
        role.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
        put_inline_policies(role, properties)
        return role

    Role.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Role.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
