"""CloudFormation resource types that moto 5.2.5's CloudFormation lacks or gets wrong.

Every class here is a thin handler over moto's own service backends
(cognito-idp, apigateway, s3), so what the stack creates is visible through the
ordinary APIs (DescribeUserPoolClient, GetRestApi, GetBucketPolicy, ...).

moto finds CloudFormation types through `CloudFormationModel.__subclasses__()`
and builds a type -> class map in which a later subclass wins, so defining a
class here for a type moto already knows (the API Gateway ones) replaces moto's
handler.  `register()` clears moto's caches so the new classes are seen.

Each handler returns an instance of its own class: it carries the ids needed to
update and delete the resource later (moto's own API Gateway objects have no
update or delete handlers and no `physical_resource_id` for Method or
Deployment, so `Ref` to them resolved to an object and the stack never deleted
them).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.apigateway.models import apigateway_backends
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition


# moto's model metaclass files every model class under `__module__.split(".")[1]`
# (the moto service name), so the classes need a dotted module name.
_MODULE = "testkit.cfn_types"


def _props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    return dict(cloudformation_json.get("Properties") or {})


def _without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


class _Handler:
    """Shared plumbing: every handler keeps its account, region and properties.

    A plain mixin: moto lists only *direct* subclasses of CloudFormationModel,
    so each resource class names CloudFormationModel itself as a base too.

    What moto calls on a resource class (`cloudformation_type()`,
    `create_from_cloudformation_json`, `update_from_cloudformation_json`, ...)
    is defined here once; a resource class states only what is particular to
    it: the class attributes below and the hooks those call (`_create`,
    `_replaces`, `_update`, `_replace`).  The hooks are classmethods given the
    resource being updated (`original`): moto updates through the class the
    template names now, which is not the resource's own class when a logical
    id changed its type.
    """

    TYPE: ClassVar[str]  # the CloudFormation resource type
    NAME_PROPERTY: ClassVar[str] = ""  # the property that names the resource, if any
    PHYSICAL_ID: ClassVar[str]  # the attribute holding the physical id (what Ref gives)
    ATTRIBUTES: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Runs inside type.__new__, before moto's metaclass reads `__module__`.
        cls.__module__ = _MODULE

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any]):
        self.account_id = account_id
        self.region_name = region_name
        self.props = props

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @property
    def physical_resource_id(self) -> str:
        return getattr(self, self.PHYSICAL_ID)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return self._attribute(attribute_name)

    def _attribute(self, name: str) -> Any:
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str, **kwargs: Any,
    ) -> "_Handler":
        return cls._create(resource_name, _props(cloudformation_json), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "_Handler", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "_Handler":
        props = _props(cloudformation_json)
        if cls._replaces(original_resource, new_resource_name, props):
            return cls._replace(original_resource, new_resource_name, props, account_id, region_name)
        cls._update(original_resource, new_resource_name, props, account_id, region_name)
        original_resource.props = props
        return original_resource

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "_Handler":
        """Makes the resource in moto's backend and returns its handler."""
        raise NotImplementedError

    @classmethod
    def _replaces(cls, original: "_Handler", name: str, props: dict[str, Any]) -> bool:
        """Whether the update needs a new resource; by default it is made in place."""
        return False

    @classmethod
    def _update(
        cls, original: "_Handler", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Applies an in-place update to the backend; by default there is nothing to apply."""

    @classmethod
    def _replace(
        cls, original: "_Handler", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "_Handler":
        # Replacement, in CloudFormation's order: the new resource first, then the old one goes.
        new = cls._create(name, props, account_id, region_name)
        original.delete(account_id, region_name)
        return new

    def delete(self, account_id: str, region_name: str) -> None:
        """Removes the resource from moto's backend."""
        raise NotImplementedError

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        # Only reached when moto has no handler object; ours always delete
        # themselves through `delete()`.
        return None


# --------------------------------------------------------------------------
# Cognito
# --------------------------------------------------------------------------


def _cognito(account_id: str, region_name: str) -> Any:
    return cognitoidp_backends[account_id][region_name]


class UserPool(_Handler, CloudFormationModel):
    """AWS::Cognito::UserPool. Ref = pool id. Updates in place, as CloudFormation does."""

    TYPE = "AWS::Cognito::UserPool"
    NAME_PROPERTY = "UserPoolName"
    PHYSICAL_ID = "pool_id"
    ATTRIBUTES = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], pool: Any):
        super().__init__(account_id, region_name, props)
        self.pool_id = pool.id
        self.arn = pool.arn

    @staticmethod
    def _config(props: dict[str, Any]) -> dict[str, Any]:
        # The CloudFormation properties are the CreateUserPool parameters,
        # except the name and the MFA list (a separate API call).
        return _without(props, "UserPoolName", "EnabledMfas")

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "UserPool":
        pool = _cognito(account_id, region_name).create_user_pool(name, cls._config(props))
        return cls(account_id, region_name, props, pool)

    @classmethod
    def _update(
        cls, original: "UserPool", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = _cognito(account_id, region_name)
        backend.update_user_pool(original.pool_id, cls._config(props))
        backend.describe_user_pool(original.pool_id).name = name

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _cognito(account_id, region_name)
        if self.pool_id not in backend.user_pools:
            return
        if self.props.get("DeletionProtection") == "ACTIVE":
            # As Cognito answers DeleteUserPool for a protected pool.
            raise InvalidParameterException(
                "The user pool cannot be deleted because deletion protection is activated. "
                "Deletion protection must be inactivated first."
            )
        backend.delete_user_pool(self.pool_id)

    def _attribute(self, name: str) -> Any:
        provider = f"cognito-idp.{self.region_name}.amazonaws.com/{self.pool_id}"
        return {
            "Arn": self.arn,
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
            "UserPoolId": self.pool_id,
        }[name]


class UserPoolClient(_Handler, CloudFormationModel):
    """AWS::Cognito::UserPoolClient. Ref = client id.

    Changing `GenerateSecret` or `UserPoolId` replaces the client (new id),
    as CloudFormation does; everything else updates in place, and like
    UpdateUserPoolClient an update sets the whole configuration (properties
    left out go back to their defaults).
    """

    TYPE = "AWS::Cognito::UserPoolClient"
    NAME_PROPERTY = "ClientName"
    PHYSICAL_ID = "client_id"
    ATTRIBUTES = ("ClientId", "ClientSecret", "Name")
    REPLACING = ("GenerateSecret", "UserPoolId")

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], client: Any):
        super().__init__(account_id, region_name, props)
        self.pool_id = client.user_pool_id
        self.client_id = client.id

    def _client(self) -> Any:
        pool = _cognito(self.account_id, self.region_name).describe_user_pool(self.pool_id)
        return pool.clients[self.client_id]

    @staticmethod
    def _config(name: str, props: dict[str, Any]) -> dict[str, Any]:
        config = _without(props, "UserPoolId", "GenerateSecret")
        config["ClientName"] = name
        return config

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "UserPoolClient":
        client = _cognito(account_id, region_name).create_user_pool_client(
            props["UserPoolId"],
            _truthy(props.get("GenerateSecret", False)),
            cls._config(name, props),
        )
        return cls(account_id, region_name, props, client)

    @classmethod
    def _replaces(cls, original: "UserPoolClient", name: str, props: dict[str, Any]) -> bool:
        old = original.props
        return any(_truthy(props.get(k)) != _truthy(old.get(k)) if k == "GenerateSecret"
                   else props.get(k) != old.get(k) for k in cls.REPLACING)

    @classmethod
    def _update(
        cls, original: "UserPoolClient", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        client = original._client()
        defaults = {
            "AllowedOAuthFlowsUserPoolClient": False,
            "AuthSessionValidity": 3,
            "EnablePropagateAdditionalUserContextData": False,
            "EnableTokenRevocation": True,
            "RefreshTokenValidity": 30,
        }
        client.extended_config = {**defaults, **cls._config(name, props)}

    def delete(self, account_id: str, region_name: str) -> None:
        pool = _cognito(account_id, region_name).user_pools.get(self.pool_id)
        if pool is not None:
            pool.clients.pop(self.client_id, None)

    def _attribute(self, name: str) -> Any:
        if name == "ClientId":
            return self.client_id
        client = self._client()
        if name == "Name":
            return client.extended_config.get("ClientName")
        return client.secret if client.generate_secret else None


class UserPoolDomain(_Handler, CloudFormationModel):
    """AWS::Cognito::UserPoolDomain. Ref = the domain prefix.

    Any change of `Domain` or `UserPoolId` is a replacement, and
    CloudFormation creates the new domain before deleting the old one, which
    Cognito refuses for the same pool ("User pool already has a domain
    configured."): that failure is reproduced here, so a prefix change fails
    as it does in AWS.
    """

    TYPE = "AWS::Cognito::UserPoolDomain"
    PHYSICAL_ID = "domain"
    ATTRIBUTES = ("CloudFrontDistribution",)

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any]):
        super().__init__(account_id, region_name, props)
        self.domain = props["Domain"]
        self.pool_id = props["UserPoolId"]

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "UserPoolDomain":
        backend = _cognito(account_id, region_name)
        if props["Domain"] in backend.user_pool_domains:
            raise InvalidParameterException("Domain already associated with another user pool.")
        if backend.describe_user_pool(props["UserPoolId"]).domain is not None:
            raise InvalidParameterException("User pool already has a domain configured.")
        backend.create_user_pool_domain(
            props["UserPoolId"], props["Domain"], props.get("CustomDomainConfig")
        )
        return cls(account_id, region_name, props)

    @classmethod
    def _replaces(cls, original: "UserPoolDomain", name: str, props: dict[str, Any]) -> bool:
        return (props["Domain"], props["UserPoolId"]) != (original.domain, original.pool_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _cognito(account_id, region_name).user_pool_domains.pop(self.domain, None)

    def _attribute(self, name: str) -> Any:
        return f"{self.domain}.cloudfront.net"


# --------------------------------------------------------------------------
# API Gateway (REST)
# --------------------------------------------------------------------------


def _apigw(account_id: str, region_name: str) -> Any:
    return apigateway_backends[account_id][region_name]


def _truthy(value: Any) -> bool:
    # CloudFormation booleans may arrive as JSON booleans or as "true"/"false".
    return str(value).lower() == "true" if value is not None else False


class RestApi(_Handler, CloudFormationModel):
    """AWS::ApiGateway::RestApi (replaces moto's, which is never deleted)."""

    TYPE = "AWS::ApiGateway::RestApi"
    NAME_PROPERTY = "Name"
    PHYSICAL_ID = "api_id"
    ATTRIBUTES = ("RestApiId", "RootResourceId")

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], api: Any):
        super().__init__(account_id, region_name, props)
        self.api_id = api.id

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "RestApi":
        endpoint = props.get("EndpointConfiguration")
        api = _apigw(account_id, region_name).create_rest_api(
            # moto's own RestAPI class comes first in its name-property lookup
            # and names the property "RestApi", so read `Name` here.
            name=props.get("Name") or name,
            description=props.get("Description", ""),
            endpoint_configuration={"types": endpoint["Types"]} if endpoint and "Types" in endpoint else None,
            policy=json.dumps(props["Policy"]) if isinstance(props.get("Policy"), dict) else props.get("Policy"),
        )
        return cls(account_id, region_name, props, api)

    @classmethod
    def _update(
        cls, original: "RestApi", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        api = _apigw(account_id, region_name).get_rest_api(original.api_id)
        api.name = props.get("Name") or name
        api.description = props.get("Description", "")

    def delete(self, account_id: str, region_name: str) -> None:
        _apigw(account_id, region_name).apis.pop(self.api_id, None)

    def _attribute(self, name: str) -> Any:
        if name == "RestApiId":
            return self.api_id
        api = _apigw(self.account_id, self.region_name).get_rest_api(self.api_id)
        return next(r.id for r in api.resources.values() if r.path_part == "/" or r.parent_id is None)


class ApiResource(_Handler, CloudFormationModel):
    """AWS::ApiGateway::Resource. All properties replace, as in CloudFormation."""

    TYPE = "AWS::ApiGateway::Resource"
    PHYSICAL_ID = "resource_id"
    ATTRIBUTES = ("ResourceId",)

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], resource: Any):
        super().__init__(account_id, region_name, props)
        self.api_id = props["RestApiId"]
        self.resource_id = resource.id

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "ApiResource":
        resource = _apigw(account_id, region_name).create_resource(
            function_id=props["RestApiId"],
            parent_resource_id=props["ParentId"],
            path_part=props["PathPart"],
        )
        return cls(account_id, region_name, props, resource)

    @classmethod
    def _replaces(cls, original: "ApiResource", name: str, props: dict[str, Any]) -> bool:
        return props != original.props

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigw(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.resources.pop(self.resource_id, None)

    def _attribute(self, name: str) -> Any:
        return self.resource_id


class ApiMethod(_Handler, CloudFormationModel):
    """AWS::ApiGateway::Method with its integration.

    Unlike moto's handler it passes `AuthorizerId` and `AuthorizationScopes`,
    lets an integration without `Uri`/`IntegrationHttpMethod` (MOCK) through,
    and supports update and delete.
    """

    TYPE = "AWS::ApiGateway::Method"

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any]):
        super().__init__(account_id, region_name, props)
        self.api_id = props["RestApiId"]
        self.resource_id = props["ResourceId"]
        self.http_method = props["HttpMethod"]

    @property
    def physical_resource_id(self) -> str:
        return f"{self.api_id}-{self.resource_id}-{self.http_method}"

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "ApiMethod":
        backend = _apigw(account_id, region_name)
        backend.put_method(
            function_id=props["RestApiId"],
            resource_id=props["ResourceId"],
            method_type=props["HttpMethod"],
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=_truthy(props.get("ApiKeyRequired")),
            request_parameters=props.get("RequestParameters"),
            operation_name=props.get("OperationName"),
            authorizer_id=props.get("AuthorizerId"),
            authorization_scopes=props.get("AuthorizationScopes"),
        )
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=props["RestApiId"],
                resource_id=props["ResourceId"],
                method_type=props["HttpMethod"],
                integration_type=integration["Type"],
                uri=integration.get("Uri"),
                integration_method=integration.get("IntegrationHttpMethod"),
                credentials=integration.get("Credentials"),
                request_templates=integration.get("RequestTemplates"),
                passthrough_behavior=integration.get("PassthroughBehavior"),
                timeout_in_millis=integration.get("TimeoutInMillis"),
                request_parameters=integration.get("RequestParameters"),
            )
        return cls(account_id, region_name, props)

    @classmethod
    def _replaces(cls, original: "ApiMethod", name: str, props: dict[str, Any]) -> bool:
        return True

    @classmethod
    def _replace(
        cls, original: "ApiMethod", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "ApiMethod":
        # The old method goes first: the new one is usually put under the same
        # resource and HTTP method, so deleting the old one afterwards would
        # remove the new one.
        original.delete(account_id, region_name)
        return cls._create(name, props, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigw(account_id, region_name).apis.get(self.api_id)
        resource = api.resources.get(self.resource_id) if api else None
        if resource is not None:
            resource.resource_methods.pop(self.http_method, None)


class ApiDeployment(_Handler, CloudFormationModel):
    """AWS::ApiGateway::Deployment. Ref = deployment id (moto's gave an object)."""

    TYPE = "AWS::ApiGateway::Deployment"
    PHYSICAL_ID = "deployment_id"
    ATTRIBUTES = ("DeploymentId",)

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], deployment: Any):
        super().__init__(account_id, region_name, props)
        self.api_id = props["RestApiId"]
        self.deployment_id = deployment.id
        self.stage_name = props.get("StageName")

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "ApiDeployment":
        deployment = _apigw(account_id, region_name).create_deployment(
            function_id=props["RestApiId"],
            name=props.get("StageName"),
            description=props.get("Description", ""),
        )
        return cls(account_id, region_name, props, deployment)

    @classmethod
    def _replaces(cls, original: "ApiDeployment", name: str, props: dict[str, Any]) -> bool:
        return _without(props, "Description") != _without(original.props, "Description")

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigw(account_id, region_name).apis.get(self.api_id)
        if api is None:
            return
        if self.stage_name:
            api.stages.pop(self.stage_name, None)
        api.deployments.pop(self.deployment_id, None)

    def _attribute(self, name: str) -> Any:
        return self.deployment_id


class ApiStage(_Handler, CloudFormationModel):
    """AWS::ApiGateway::Stage (unknown to moto). Ref = stage name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"
    PHYSICAL_ID = "stage_name"

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], name: str):
        super().__init__(account_id, region_name, props)
        self.api_id = props["RestApiId"]
        self.stage_name = name

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "ApiStage":
        tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
        stage = _apigw(account_id, region_name).create_stage(
            function_id=props["RestApiId"],
            stage_name=name,
            deploymentId=props["DeploymentId"],
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            tags=tags or None,
            tracing_enabled=_truthy(props.get("TracingEnabled")),
        )
        stage.method_settings = cls._method_settings(stage, props)
        return cls(account_id, region_name, props, name)

    # CloudFormation's MethodSettings keys -> GetStage's methodSettings keys.
    _SETTINGS = {
        "MetricsEnabled": "metricsEnabled",
        "LoggingLevel": "loggingLevel",
        "DataTraceEnabled": "dataTraceEnabled",
        "ThrottlingBurstLimit": "throttlingBurstLimit",
        "ThrottlingRateLimit": "throttlingRateLimit",
        "CachingEnabled": "cachingEnabled",
        "CacheTtlInSeconds": "cacheTtlInSeconds",
        "CacheDataEncrypted": "cacheDataEncrypted",
    }

    @classmethod
    def _method_settings(cls, stage: Any, props: dict[str, Any]) -> dict[str, Any]:
        """MethodSettings as GetStage shows them: keyed "<path without the
        leading slash>/<method>", e.g. "*/*", over API Gateway's defaults."""
        settings = {}
        for entry in props.get("MethodSettings") or []:
            key = f"{entry.get('ResourcePath', '/*').lstrip('/')}/{entry.get('HttpMethod', '*')}"
            values = stage._get_default_method_settings()
            values.update({api: entry[cfn] for cfn, api in cls._SETTINGS.items() if cfn in entry})
            settings[key] = values
        return settings

    @classmethod
    def _replaces(cls, original: "ApiStage", name: str, props: dict[str, Any]) -> bool:
        return (props["RestApiId"], name) != (original.api_id, original.stage_name)

    @classmethod
    def _update(
        cls, original: "ApiStage", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        stage = _apigw(account_id, region_name).get_stage(original.api_id, original.stage_name)
        stage.deployment_id = props["DeploymentId"]
        stage.variables = props.get("Variables") or {}
        stage.description = props.get("Description", "")
        stage.tracing_enabled = _truthy(props.get("TracingEnabled"))
        stage.method_settings = cls._method_settings(stage, props)

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigw(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.stage_name, None)


class ApiAuthorizer(_Handler, CloudFormationModel):
    """AWS::ApiGateway::Authorizer (unknown to moto). Ref = authorizer id.

    Updates in place except a new `RestApiId`, which replaces it.
    """

    TYPE = "AWS::ApiGateway::Authorizer"
    NAME_PROPERTY = "Name"
    PHYSICAL_ID = "authorizer_id"
    ATTRIBUTES = ("AuthorizerId",)

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], authorizer: Any):
        super().__init__(account_id, region_name, props)
        self.api_id = props["RestApiId"]
        self.authorizer_id = authorizer.id

    @staticmethod
    def _fields(props: dict[str, Any]) -> dict[str, Any]:
        ttl = props.get("AuthorizerResultTtlInSeconds")
        return {
            "provider_arns": props.get("ProviderARNs"),
            "auth_type": props.get("AuthType"),
            "authorizer_uri": props.get("AuthorizerUri"),
            "authorizer_credentials": props.get("AuthorizerCredentials"),
            "identity_source": props.get("IdentitySource"),
            "identity_validation_expression": props.get("IdentityValidationExpression"),
            "authorizer_result_ttl": int(ttl) if ttl is not None else 300,
        }

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "ApiAuthorizer":
        fields = cls._fields(props)
        # moto's create_authorizer spells this keyword "identiy_...".
        fields["identiy_validation_expression"] = fields.pop("identity_validation_expression")
        authorizer = _apigw(account_id, region_name).create_authorizer(
            props["RestApiId"], name, props["Type"], **fields
        )
        return cls(account_id, region_name, props, authorizer)

    @classmethod
    def _replaces(cls, original: "ApiAuthorizer", name: str, props: dict[str, Any]) -> bool:
        return props["RestApiId"] != original.api_id

    @classmethod
    def _update(
        cls, original: "ApiAuthorizer", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        authorizer = _apigw(account_id, region_name).get_authorizer(original.api_id, original.authorizer_id)
        authorizer.name = name
        authorizer.type = props["Type"]
        for key, value in cls._fields(props).items():
            setattr(authorizer, key, value)

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigw(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.authorizers.pop(self.authorizer_id, None)

    def _attribute(self, name: str) -> Any:
        return self.authorizer_id


# --------------------------------------------------------------------------
# S3 bucket policy
# --------------------------------------------------------------------------


class BucketPolicy(_Handler, CloudFormationModel):
    """AWS::S3::BucketPolicy (unknown to moto): recorded, readable with
    GetBucketPolicy, deleted with the stack.

    The policy is stored on the bucket like PutBucketPolicy does.  moto only
    evaluates bucket policies when its IAM authorization is switched on
    (`INITIAL_NO_AUTH_ACTION_COUNT`), which this launcher never does, so a
    TLS-only policy does not deny the plain-http requests every client makes
    to this loopback server.
    """

    TYPE = "AWS::S3::BucketPolicy"
    PHYSICAL_ID = "bucket"

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any]):
        super().__init__(account_id, region_name, props)
        self.bucket = props["Bucket"]

    def _backend(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region_name)]

    def _put(self) -> None:
        document = self.props["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        self._backend().put_bucket_policy(self.bucket, text.encode("utf-8"))

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "BucketPolicy":
        policy = cls(account_id, region_name, props)
        policy._put()
        return policy

    @classmethod
    def _replaces(cls, original: "BucketPolicy", name: str, props: dict[str, Any]) -> bool:
        return True

    @classmethod
    def _replace(
        cls, original: "BucketPolicy", name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "BucketPolicy":
        # On the same bucket the new policy is put over the old one.
        if props["Bucket"] != original.bucket:
            original.delete(account_id, region_name)
        return cls._create(name, props, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = self._backend()
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)


# --------------------------------------------------------------------------
# Lambda permission
# --------------------------------------------------------------------------


class LambdaPermission(_Handler, CloudFormationModel):
    """AWS::Lambda::Permission (replaces moto's, which had no physical id and
    was never removed: a permission dropped from the template stayed on the
    function).  Any property change replaces it, as in CloudFormation."""

    TYPE = "AWS::Lambda::Permission"
    PHYSICAL_ID = "sid"

    def __init__(self, account_id: str, region_name: str, props: dict[str, Any], sid: str):
        super().__init__(account_id, region_name, props)
        self.sid = sid

    def _function(self) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[self.account_id][self.region_name].get_function(self.props["FunctionName"])

    @classmethod
    def _create(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> "LambdaPermission":
        permission = cls(account_id, region_name, props, name)
        permission._function().policy.add_statement(raw=json.dumps({**props, "StatementId": name}))
        return permission

    @classmethod
    def _replaces(cls, original: "LambdaPermission", name: str, props: dict[str, Any]) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            function = self._function()
        except Exception:  # the function is gone, and its policy with it
            return
        function.policy.del_statement(self.sid)


def register() -> None:
    """Makes moto's CloudFormation see the classes above (its lookups are cached)."""
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
