//! The L2 layer: verbs over the L1 resource types, each adding the few
//! resources one idea takes, with the checkov skips that idea needs and
//! their reasons. A function comes with its role and log group, a route
//! with its path, method, proxy integration, throttling and invoke
//! permission, a private bucket with its TLS-only policy.

use crate::apigateway::{
    AccessLogSetting, ApiResource, Authorizer, Deployment, Integration, Method, MethodSetting,
    RestApi, Stage,
};
use crate::cognito::UserPool;
use crate::iam::{Effect, Policy, PolicyDocument, Principal, Role, Statement};
use crate::lambda::{Code, Environment, Function, LoggingConfig, Permission};
use crate::logs::LogGroup;
use crate::s3::{
    Bucket, BucketEncryption, BucketPolicy, OwnershipControls, PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault, ServerSideEncryptionRule,
};
use crate::{Expr, Handle, LogRetention, Parameter, Settings, Template, TemplateError, Throttle};

/// Where a function's zip is: two template parameters (its bucket and its
/// key), so synthesizing needs no build.
pub(crate) fn code_parameters(t: &mut Template, bucket: &str, key: &str, function: &str) -> Code {
    let bucket_description = format!("Bucket of the {function} function's zip");
    let key_description = format!("Key of the {function} function's zip (its SHA-256)");
    Code {
        s3_bucket: t
            .parameter(bucket, Parameter::string(bucket_description))
            .value(),
        s3_key: t.parameter(key, Parameter::string(key_description)).value(),
    }
}

/// Adds the log group `/<stack>/<name>`, keeping events for `retention`.
pub(crate) fn log_group(
    t: &mut Template,
    retention: LogRetention,
    id: &str,
    name: &str,
) -> Handle<LogGroup> {
    let group = t.add(
        id,
        LogGroup {
            log_group_name: Some(Expr::concat([
                "/".into(),
                Expr::STACK_NAME,
                format!("/{name}").into(),
            ])),
            retention_in_days: Some(retention.as_days()),
        },
    );
    t.skip_check(
        &group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest; a customer managed key adds cost and a key policy, and no secret is ever logged",
    );
    group
}

/// One function of the stack: what it is, what it may do and what it is told.
pub(crate) struct LambdaFunction {
    /// The start of its logical ids (`AuthLogGroup`, `AuthRole`,
    /// `AuthFunction`); lowercased, the end of its log group's name.
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    /// What its role allows, in a few words.
    pub(crate) role_description: &'static str,
    pub(crate) code: Code,
    /// Everything it may do besides writing its own logs.
    pub(crate) statements: Vec<Statement>,
    pub(crate) environment: Vec<(&'static str, Expr)>,
}

/// Adds each function with a log group and a role of its own: the log
/// groups first, then the roles, then the functions, so the template lists
/// resources of a kind together.
pub(crate) fn functions<const N: usize>(
    t: &mut Template,
    settings: &Settings,
    functions: [LambdaFunction; N],
) -> [Handle<Function>; N] {
    let logs = functions.each_ref().map(|function| {
        let id = format!("{}LogGroup", function.name);
        log_group(
            t,
            settings.log_retention,
            &id,
            &function.name.to_lowercase(),
        )
    });
    let roles: [Handle<Role>; N] =
        std::array::from_fn(|i| function_role(t, &functions[i], &logs[i]));
    std::array::from_fn(|i| function(t, settings, &functions[i], &roles[i], &logs[i]))
}

/// The role `function` runs as: exactly its statements, plus writing to its log group.
fn function_role(
    t: &mut Template,
    function: &LambdaFunction,
    logs: &Handle<LogGroup>,
) -> Handle<Role> {
    let mut statements = function.statements.clone();
    statements.push(Statement::allow(
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![logs.arn()],
    ));
    let assume = PolicyDocument::new(vec![Statement::assume_role("lambda.amazonaws.com")]);
    t.add(
        &format!("{}Role", function.name),
        Role {
            description: Some(function.role_description.into()),
            policies: Some(vec![Policy {
                policy_name: "least-privilege".into(),
                policy_document: PolicyDocument::new(statements),
            }]),
            ..Role::new(assume)
        },
    )
}

fn function(
    t: &mut Template,
    settings: &Settings,
    function: &LambdaFunction,
    role: &Handle<Role>,
    logs: &Handle<LogGroup>,
) -> Handle<Function> {
    let variables = function.environment.iter();
    let variables = variables.map(|(name, value)| ((*name).to_owned(), value.clone()));
    let handle = t.add(
        &format!("{}Function", function.name),
        Function {
            description: Some(function.description.into()),
            architectures: Some(vec![settings.architecture.as_str().into()]),
            memory_size: Some(256),
            timeout: Some(15),
            environment: Some(Environment {
                variables: variables.collect(),
            }),
            logging_config: Some(LoggingConfig {
                log_group: logs.name(),
                log_format: "JSON".into(),
            }),
            ..Function::new(
                "provided.al2023",
                "bootstrap",
                function.code.clone(),
                role.arn(),
            )
        },
    );
    for (check, reason) in [
        (
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway; a dead-letter queue only receives failed asynchronous events",
        ),
        (
            "CKV_AWS_117",
            "Calls only public AWS endpoints and Cognito; a VPC would add NAT gateways and cold-start time for nothing to protect",
        ),
        (
            "CKV_AWS_115",
            "Bounded by each route's throttling; reserving concurrency fails on accounts whose limit is the default 10",
        ),
        (
            "CKV_AWS_173",
            "The environment holds only ids and URLs; the client secret is fetched at cold start, never put in the environment",
        ),
    ] {
        t.skip_check(&handle, check, reason);
    }
    handle
}

/// Adds `bucket` encrypted with KMS, owned by the bucket owner with ACLs
/// off, closed to the public for this bucket only (never with the
/// account-wide switch), and with a policy that refuses every request not
/// made over TLS.
pub(crate) fn private_bucket(t: &mut Template, id: &str, bucket: Bucket) -> Handle<Bucket> {
    let bucket = t.add(
        id,
        Bucket {
            bucket_encryption: Some(BucketEncryption {
                server_side_encryption_configuration: vec![ServerSideEncryptionRule {
                    server_side_encryption_by_default: ServerSideEncryptionByDefault {
                        sse_algorithm: "aws:kms".into(),
                    },
                    // One data key per bucket instead of per object: far fewer KMS calls.
                    bucket_key_enabled: Some(true),
                }],
            }),
            public_access_block_configuration: Some(PublicAccessBlockConfiguration::ALL_BLOCKED),
            ownership_controls: Some(OwnershipControls::bucket_owner_enforced()),
            ..bucket
        },
    );
    t.skip_check(
        &bucket,
        "CKV_AWS_18",
        "Server access logs would need a second bucket per stack; CloudTrail data events are the audit tool if one is wanted",
    );
    let deny_plain_http = Statement {
        sid: Some("DenyInsecureTransport".into()),
        principal: Some(Principal::Anyone),
        resource: Some(vec![bucket.arn(), bucket.objects_arn()]),
        condition: Some(serde_json::json!({ "Bool": { "aws:SecureTransport": "false" } })),
        ..Statement::new(Effect::Deny, &["s3:*"])
    };
    t.add(
        &format!("{id}Policy"),
        BucketPolicy {
            bucket: bucket.name(),
            policy_document: PolicyDocument::new(vec![deny_plain_http]),
        },
    );
    bucket
}

/// A path of the REST API, such as `/auth/login`, built from `/` one
/// segment at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiPath(Vec<&'static str>);

impl ApiPath {
    /// `/`.
    pub(crate) fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with `segment` appended.
    pub(crate) fn child(&self, segment: &'static str) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }

    /// The path as API Gateway writes it: `/auth/login`, or `/`.
    fn text(&self) -> String {
        format!("/{}", self.0.join("/"))
    }

    /// The path one segment up, and the last segment; nothing for `/`.
    fn split_last(&self) -> Option<(Self, &'static str)> {
        let (last, parent) = self.0.split_last()?;
        Some((Self(parent.to_vec()), last))
    }
}

/// Every route is a `GET`.
const GET: &str = "GET";

/// Who may call a route.
pub(crate) enum Access<'a> {
    /// Anyone; `reason` says why that is safe, for the reviewer and checkov.
    Public { reason: &'static str },
    /// Only a caller with an ID token of the pool, which API Gateway's
    /// Cognito authorizer checks before the function runs.
    UserPool(&'a Handle<UserPool>),
}

/// A `GET` route served by a function through a Lambda proxy integration.
pub(crate) struct Route<'a> {
    /// The start of its logical ids (`AuthPath`, `AuthMethod`, `AuthInvokePermission`).
    pub(crate) name: &'static str,
    pub(crate) path: &'a ApiPath,
    pub(crate) function: &'a Handle<Function>,
    pub(crate) operation_name: &'static str,
    pub(crate) access: Access<'a>,
    /// The query-string parameters the method declares, all optional.
    pub(crate) query: &'a [&'a str],
    /// The route's own token bucket at the stage.
    pub(crate) throttle: Throttle,
}

/// The REST API at the stack's stage: its URLs, and the routes published there.
pub(crate) struct Api {
    pub(crate) rest_api: Handle<RestApi>,
    stage: String,
}

impl Api {
    /// Adds `rest_api`, to be published at `settings.stage`.
    pub(crate) fn new(t: &mut Template, id: &str, rest_api: RestApi, settings: &Settings) -> Self {
        Self {
            rest_api: t.add(id, rest_api),
            stage: settings.stage.as_str().to_owned(),
        }
    }

    /// The stage's base URL, known before any deployment exists.
    pub(crate) fn url(&self) -> Expr {
        self.rest_api.url(&self.stage)
    }

    /// The URL of `path` at the stage.
    pub(crate) fn url_of(&self, path: &ApiPath) -> Expr {
        Expr::concat([self.url(), path.text().into()])
    }

    /// Adds every route: their paths, the Cognito authorizer, their
    /// methods, a deployment of those methods, the stage with each route's
    /// throttling, and each function's permission to be invoked for its
    /// route. A route's path is one segment below `/` or below the path of
    /// an earlier route, else [`Template::validate`] refuses it. The API has
    /// one authorizer: routes behind a second pool make a second
    /// `Authorizer`, which it refuses as a duplicate id.
    pub(crate) fn publish(&self, t: &mut Template, settings: &Settings, routes: &[Route<'_>]) {
        let api = &self.rest_api;
        let resources = self.add_paths(t, routes);
        let mut authorizers: Vec<(&str, Handle<Authorizer>)> = Vec::new();
        for route in routes {
            let Access::UserPool(pool) = route.access else {
                continue;
            };
            if authorizers.iter().all(|(id, _)| *id != pool.logical_id()) {
                let authorizer = Authorizer {
                    provider_arns: Some(vec![pool.arn()]),
                    ..Authorizer::new(
                        Expr::concat([Expr::STACK_NAME, "-cognito".into()]),
                        api.id(),
                        "COGNITO_USER_POOLS",
                        "method.request.header.Authorization",
                    )
                };
                authorizers.push((pool.logical_id(), t.add("Authorizer", authorizer)));
            }
        }
        let methods: Vec<Method> = routes
            .iter()
            .zip(resources)
            .map(|(route, resource_id)| {
                let (authorization_type, authorizer_id) = match route.access {
                    Access::Public { .. } => ("NONE", None),
                    Access::UserPool(pool) => (
                        "COGNITO_USER_POOLS",
                        authorizers
                            .iter()
                            .find(|(id, _)| *id == pool.logical_id())
                            .map(|(_, authorizer)| authorizer.id()),
                    ),
                };
                let integration = lambda_proxy(route.function);
                let optional = |name| (format!("method.request.querystring.{name}"), false);
                Method {
                    authorizer_id,
                    operation_name: Some(route.operation_name.into()),
                    request_parameters: (!route.query.is_empty())
                        .then(|| route.query.iter().map(optional).collect()),
                    ..Method::new(api.id(), resource_id, GET, authorization_type, integration)
                }
            })
            .collect();
        // A deployment is a snapshot: CloudFormation only makes a new one
        // when its logical id changes, so the id carries a hash of the methods.
        let fingerprint = fingerprint(&methods);
        let deployment = Deployment {
            description: Some("Replaced whenever a method changes, so changes go live".into()),
            ..Deployment::new(api.id())
        };
        let mut added = Vec::new();
        for (route, method) in routes.iter().zip(methods) {
            let method = t.add(&format!("{}Method", route.name), method);
            if let Access::Public { reason } = route.access {
                t.skip_check(&method, "CKV_AWS_59", reason);
            }
            added.push(method);
        }
        let deployment = t.add(&format!("Deployment{fingerprint:08X}"), deployment);
        for method in &added {
            t.depends_on(&deployment, method);
        }
        self.add_stage(t, settings, &deployment, routes);
        for route in routes {
            let permission = Permission {
                source_arn: Some(api.execute_arn(&self.stage, GET, &route.path.text())),
                source_account: Some(Expr::ACCOUNT_ID),
                ..Permission::new(
                    "lambda:InvokeFunction",
                    route.function.arn(),
                    "apigateway.amazonaws.com",
                )
            };
            t.add(&format!("{}InvokePermission", route.name), permission);
        }
    }

    /// Adds the resource of each route's path, and returns each route's
    /// resource id.
    fn add_paths(&self, t: &mut Template, routes: &[Route<'_>]) -> Vec<Expr> {
        let api = &self.rest_api;
        let mut known = vec![(ApiPath::root(), api.root_resource_id())];
        let mut ids = Vec::new();
        for route in routes {
            let resource_id = match route.path.split_last() {
                None => api.root_resource_id(),
                Some((parent, segment)) => {
                    let id = format!("{}Path", route.name);
                    let parent_id = known
                        .iter()
                        .find(|(path, _)| *path == parent)
                        .map(|(_, parent_id)| parent_id.clone());
                    let parent_id = parent_id.unwrap_or_else(|| {
                        t.report(TemplateError::Dangling {
                            from: id.clone(),
                            to: parent.text(),
                        });
                        api.root_resource_id()
                    });
                    let resource = ApiResource {
                        rest_api_id: api.id(),
                        parent_id,
                        path_part: segment.into(),
                    };
                    t.add(&id, resource).id()
                }
            };
            known.push((route.path.clone(), resource_id.clone()));
            ids.push(resource_id);
        }
        ids
    }

    fn add_stage(
        &self,
        t: &mut Template,
        settings: &Settings,
        deployment: &Handle<Deployment>,
        routes: &[Route<'_>],
    ) {
        let access_logs = settings.api_access_logs.then(|| {
            let group = log_group(t, settings.log_retention, "ApiAccessLogGroup", "api-access");
            AccessLogSetting {
                destination_arn: group.destination_arn(),
                format: ACCESS_LOG_FORMAT.into(),
            }
        });
        let logged = access_logs.is_some();
        let stage = t.add(
            "Stage",
            Stage {
                tracing_enabled: Some(true),
                // One bucket per route: a flood of one route leaves the
                // others their own limits.
                method_settings: Some(
                    routes
                        .iter()
                        .map(|route| route_throttle(route.path, route.throttle))
                        .collect(),
                ),
                access_log_setting: access_logs,
                ..Stage::new(self.rest_api.id(), deployment.id(), &self.stage)
            },
        );
        if !logged {
            t.skip_check(
                &stage,
                "CKV_AWS_76",
                "Access logging needs the account-wide API Gateway CloudWatch role; it is a setting (api_access_logs), off by default so a deploy never changes account settings",
            );
        }
        t.skip_check(
            &stage,
            "CKV_AWS_120",
            "Responses are per user and per sign-in; caching them would serve one person's answer to another",
        );
    }
}

/// A hash of the methods as they are written into the template.
#[expect(
    clippy::expect_used,
    reason = "a Method is strings, booleans, a string-keyed map and expressions, which JSON always represents"
)]
fn fingerprint(methods: &[Method]) -> u32 {
    let texts: Vec<String> = methods
        .iter()
        .map(|method| serde_json::to_string(method).expect("a method serializes to JSON"))
        .collect();
    crate::names::fnv1a(&texts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A Lambda proxy integration: API Gateway passes the whole request.
fn lambda_proxy(function: &Handle<Function>) -> Integration {
    Integration {
        kind: "AWS_PROXY".into(),
        integration_http_method: "POST".into(),
        uri: Expr::concat([
            "arn:".into(),
            Expr::PARTITION,
            ":apigateway:".into(),
            Expr::REGION,
            ":lambda:path/2015-03-31/functions/".into(),
            function.arn(),
            "/invocations".into(),
        ]),
    }
}

/// The stage's settings for `GET path`: its throttling, and metrics.
fn route_throttle(path: &ApiPath, throttle: Throttle) -> MethodSetting {
    MethodSetting {
        // API Gateway's escaping: `/auth/login` is written `/~1auth~1login`.
        resource_path: format!("/{}", path.text().replace('/', "~1")),
        http_method: GET.into(),
        throttling_burst_limit: Some(throttle.burst()),
        throttling_rate_limit: Some(throttle.rate()),
        metrics_enabled: Some(true),
    }
}

/// One JSON object per request; the fields API Gateway documents for `$context`.
const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","responseLength":"$context.responseLength","user":"$context.authorizer.claims.sub"}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StackName;

    fn setup() -> (Template, Settings, Api, Handle<Function>) {
        let settings = Settings::new(StackName::new("test").unwrap());
        let mut t = Template::new("test");
        let api = Api::new(&mut t, "Api", RestApi::new("api".into()), &settings);
        let code = Code {
            s3_bucket: "b".into(),
            s3_key: "k".into(),
        };
        let function = Function::new("provided.al2023", "bootstrap", code, "arn:role".into());
        let function = t.add("Function", function);
        (t, settings, api, function)
    }

    fn route<'a>(
        name: &'static str,
        path: &'a ApiPath,
        function: &'a Handle<Function>,
        access: Access<'a>,
    ) -> Route<'a> {
        Route {
            name,
            path,
            function,
            operation_name: name,
            access,
            query: &[],
            throttle: Throttle::AUTH_DEFAULT,
        }
    }

    #[test]
    fn a_route_below_a_path_no_route_has_is_refused_naming_the_missing_path() {
        let (mut t, settings, api, function) = setup();
        let orphan = ApiPath::root().child("a").child("b");
        let public = Access::Public { reason: "test" };
        api.publish(&mut t, &settings, &[route("B", &orphan, &function, public)]);
        assert_eq!(
            t.validate(),
            Err(TemplateError::Dangling {
                from: "BPath".into(),
                to: "/a".into()
            })
        );
    }

    #[test]
    fn routes_behind_one_pool_share_its_authorizer_and_a_second_pool_is_refused() {
        let (mut t, settings, api, function) = setup();
        let first = t.add("First", UserPool::default());
        let second = t.add("Second", UserPool::default());
        let (a, b) = (ApiPath::root().child("a"), ApiPath::root().child("b"));
        let shared = [
            route("A", &a, &function, Access::UserPool(&first)),
            route("B", &b, &function, Access::UserPool(&first)),
        ];
        let mut one = t.clone();
        api.publish(&mut one, &settings, &shared);
        let value = one.to_value().unwrap();
        let authorizers = value["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::ApiGateway::Authorizer")
            .count();
        assert_eq!(authorizers, 1);
        for method in ["AMethod", "BMethod"] {
            let id = &value["Resources"][method]["Properties"]["AuthorizerId"];
            assert_eq!(id, &serde_json::json!({ "Ref": "Authorizer" }), "{method}");
        }

        let two = [
            route("A", &a, &function, Access::UserPool(&first)),
            route("B", &b, &function, Access::UserPool(&second)),
        ];
        api.publish(&mut t, &settings, &two);
        assert_eq!(
            t.validate(),
            Err(TemplateError::Duplicate("Authorizer".into()))
        );
    }
}
