//! The sign-in stack, top to bottom: the user pool, the data it records,
//! the two functions, and the API that joins them.
//!
//! Every name derives from the stack name (or is left to CloudFormation,
//! which derives it from the stack name), so two stacks live side by side.
//! The code location and the domain prefix come in as parameters, so
//! synthesizing needs no build and no credentials.

use contract::{auth as auth_env, login as login_env, routes};

use crate::apigateway::{
    AccessLogSetting, ApiResource, Authorizer, Deployment, EndpointConfiguration, Integration,
    Method, MethodSetting, RestApi, Stage,
};
use crate::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, PasswordPolicy, Policies, RecoveryOption,
    TokenValidityUnits, UserAttributeUpdateSettings, UserPool, UserPoolClient, UserPoolDomain,
    UsernameConfiguration, VerificationMessageTemplate,
};
use crate::dynamodb::{
    AttributeDefinition, KeySchema, PointInTimeRecoverySpecification, SseSpecification, Table,
};
use crate::iam::{Policy, PolicyDocument, Role, Statement};
use crate::lambda::{Code, Environment, Function, LoggingConfig, Permission};
use crate::logs::LogGroup;
use crate::s3::{
    AbortIncompleteMultipartUpload, Bucket, LifecycleConfiguration, LifecycleRule,
    NoncurrentVersionExpiration, OwnershipControls, OwnershipControlsRule, VersioningConfiguration,
};
use crate::{Expr, Handle, Mfa, Parameter, Settings, Template, Throttle, shared};

/// The template parameter names, for whoever deploys the template.
pub mod params {
    pub const DOMAIN_PREFIX: &str = "DomainPrefix";
    pub const AUTH_CODE_BUCKET: &str = "AuthCodeBucket";
    pub const AUTH_CODE_KEY: &str = "AuthCodeKey";
    pub const LOGIN_CODE_BUCKET: &str = "LoginCodeBucket";
    pub const LOGIN_CODE_KEY: &str = "LoginCodeKey";
}

/// The output names, sign-in URL first.
pub mod outputs {
    pub const SIGN_IN_URL: &str = "SignInUrl";
    pub const API_URL: &str = "ApiUrl";
    pub const CALLBACK_URL: &str = "CallbackUrl";
    pub const USER_POOL_ID: &str = "UserPoolId";
    pub const CLIENT_ID: &str = "ClientId";
    pub const TABLE_NAME: &str = "TableName";
    pub const BUCKET_NAME: &str = "BucketName";

    /// Every output, in the order they are shown.
    pub const ALL: [&str; 7] = [
        SIGN_IN_URL,
        API_URL,
        CALLBACK_URL,
        USER_POOL_ID,
        CLIENT_ID,
        TABLE_NAME,
        BUCKET_NAME,
    ];
}

/// The greetings the login function picks from, as the original shipped them.
pub const GREETINGS: [&str; 4] = ["Hello", "Shalom", "Hi", "Marhaba"];

/// Builds the sign-in stack's template.
pub fn sign_in_stack(settings: &Settings) -> Template {
    let mut t = Template::new(format!(
        "Serverless sign-in: Cognito hosted UI, API Gateway with a Cognito authorizer, \
         two Rust Lambda functions, DynamoDB, S3 and SSM (stack {})",
        settings.stack_name
    ));
    let stage = settings.stage.as_str();

    // Inputs: the hosted UI's domain prefix, and where each function's zip is.
    let domain_prefix = t.parameter(
        params::DOMAIN_PREFIX,
        Parameter {
            allowed_pattern: Some("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$".into()),
            constraint_description: Some(
                "1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen"
                    .into(),
            ),
            ..Parameter::string(
                "Prefix of the hosted UI's domain, <prefix>.auth.<region>.amazoncognito.com; \
                 unique per region. Changing it replaces the domain.",
            )
        },
    );
    let code = |t: &mut Template, bucket: &str, key: &str, function: &str| Code {
        s3_bucket: t
            .parameter(
                bucket,
                Parameter::string(format!("Bucket of the {function} function's zip")),
            )
            .value(),
        s3_key: t
            .parameter(
                key,
                Parameter::string(format!(
                    "Key of the {function} function's zip (its SHA-256)"
                )),
            )
            .value(),
    };
    let auth_code = code(
        &mut t,
        params::AUTH_CODE_BUCKET,
        params::AUTH_CODE_KEY,
        "auth",
    );
    let login_code = code(
        &mut t,
        params::LOGIN_CODE_BUCKET,
        params::LOGIN_CODE_KEY,
        "login",
    );

    // The API comes first: the callback URL is built from its id, which
    // exists before any deployment, so the app client needs no deployment
    // and nothing needs the client's secret.
    let api = t.add(
        "Api",
        RestApi {
            name: Expr::concat([Expr::STACK_NAME, "-api".into()]),
            description: Some("Sign-in callback and the protected login route".into()),
            endpoint_configuration: Some(EndpointConfiguration {
                types: vec!["REGIONAL".into()],
            }),
        },
    );
    let api_url = Expr::concat([
        "https://".into(),
        api.id(),
        ".execute-api.".into(),
        Expr::REGION,
        ".".into(),
        Expr::URL_SUFFIX,
        format!("/{stage}").into(),
    ]);
    let callback_url = Expr::concat([api_url.clone(), format!("/{}", routes::AUTH).into()]);
    let login_url = Expr::concat([callback_url.clone(), format!("/{}", routes::LOGIN).into()]);

    // Cognito: the people who may sign in, the hosted UI, and the app client.
    let pool = t.add(
        "UserPool",
        UserPool {
            user_pool_name: Some(Expr::concat([Expr::STACK_NAME, "-users".into()])),
            username_attributes: Some(vec!["email".into()]),
            auto_verified_attributes: Some(vec!["email".into()]),
            username_configuration: Some(UsernameConfiguration {
                case_sensitive: Some(false),
            }),
            policies: Some(Policies {
                password_policy: PasswordPolicy {
                    minimum_length: Some(12),
                    require_lowercase: Some(true),
                    require_numbers: Some(true),
                    require_symbols: Some(true),
                    require_uppercase: Some(true),
                    temporary_password_validity_days: Some(3),
                },
            }),
            account_recovery_setting: Some(AccountRecoverySetting {
                recovery_mechanisms: vec![RecoveryOption {
                    name: "verified_email".into(),
                    priority: 1,
                }],
            }),
            admin_create_user_config: Some(AdminCreateUserConfig {
                allow_admin_create_user_only: false,
            }),
            verification_message_template: Some(VerificationMessageTemplate {
                default_email_option: "CONFIRM_WITH_CODE".into(),
            }),
            // A changed address takes effect only once its owner types the
            // code sent to it: until then `email` (the name logins are kept
            // under) stays the old, verified one.
            user_attribute_update_settings: Some(UserAttributeUpdateSettings {
                attributes_require_verification_before_update: vec!["email".into()],
            }),
            mfa_configuration: Some(
                match settings.mfa {
                    Mfa::Off => "OFF",
                    Mfa::Required => "ON",
                }
                .into(),
            ),
            enabled_mfas: (settings.mfa == Mfa::Required)
                .then(|| vec!["SOFTWARE_TOKEN_MFA".into()]),
            // `destroy` must be able to remove the pool with the stack.
            deletion_protection: Some("INACTIVE".into()),
        },
    );
    // Stateful resources say on purpose what becomes of their data (`--retain-data`).
    t.data_policy(&pool, settings.data_policy);
    let domain = t.add(
        "UserPoolDomain",
        UserPoolDomain {
            domain: domain_prefix.value(),
            user_pool_id: pool.id(),
        },
    );
    let client = t.add(
        "UserPoolClient",
        UserPoolClient {
            client_name: Some(Expr::concat([Expr::STACK_NAME, "-web".into()])),
            user_pool_id: pool.id(),
            generate_secret: Some(true),
            allowed_oauth_flows: Some(vec!["code".into()]),
            allowed_oauth_flows_user_pool_client: Some(true),
            allowed_oauth_scopes: Some(vec!["openid".into(), "email".into()]),
            callback_urls: Some(vec![callback_url.clone()]),
            // After signing out a person lands on `/auth` without a code,
            // which starts a new sign-in.
            logout_urls: Some(vec![callback_url.clone()]),
            supported_identity_providers: Some(vec!["COGNITO".into()]),
            // Only what the flow needs: the login function reads `email`,
            // `email_verified` and `sub` (always in the ID token); sign-up
            // writes the address people sign in with.
            read_attributes: Some(vec!["email".into(), "email_verified".into()]),
            write_attributes: Some(vec!["email".into()]),
            explicit_auth_flows: Some(vec!["ALLOW_REFRESH_TOKEN_AUTH".into()]),
            prevent_user_existence_errors: Some("ENABLED".into()),
            // The auth function revokes the refresh token it never uses.
            enable_token_revocation: Some(true),
            // Each the shortest Cognito allows: the ID token is presented
            // once, seconds after it is issued; the access token is not used;
            // the refresh token is revoked at once, and expires within the
            // hour should the revocation fail.
            auth_session_validity: Some(3),
            access_token_validity: Some(5),
            id_token_validity: Some(5),
            refresh_token_validity: Some(60),
            token_validity_units: Some(TokenValidityUnits {
                access_token: "minutes".into(),
                id_token: "minutes".into(),
                refresh_token: "minutes".into(),
            }),
        },
    );
    let hosted_ui = domain.base_url();
    let endpoint = |path: &str| Expr::concat([hosted_ui.clone(), path.into()]);
    // A sign-in starts at the API, which makes the state, the PKCE
    // challenge and the nonce, then sends the browser to the hosted UI.
    let sign_in_url = callback_url.clone();

    // What the login function records: every login in the table, the
    // latest per user in the bucket, the greetings in Parameter Store.
    let table = t.add(
        "LoginTable",
        Table {
            billing_mode: "PAY_PER_REQUEST".into(),
            attribute_definitions: vec![
                AttributeDefinition {
                    attribute_name: "username".into(),
                    attribute_type: "S".into(),
                },
                AttributeDefinition {
                    attribute_name: "timestamp".into(),
                    attribute_type: "S".into(),
                },
            ],
            key_schema: vec![
                KeySchema {
                    attribute_name: "username".into(),
                    key_type: "HASH".into(),
                },
                KeySchema {
                    attribute_name: "timestamp".into(),
                    key_type: "RANGE".into(),
                },
            ],
            point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
                point_in_time_recovery_enabled: true,
            }),
            sse_specification: Some(SseSpecification { sse_enabled: true }),
            deletion_protection_enabled: Some(false),
        },
    );
    t.data_policy(&table, settings.data_policy);
    t.skip_check(
        &table,
        "CKV_AWS_119",
        "Encrypted with the AWS managed KMS key; a customer managed key adds cost and a key policy to run for no gain here",
    );
    let bucket = shared::private_bucket(
        &mut t,
        "LoginBucket",
        Bucket {
            versioning_configuration: Some(VersioningConfiguration {
                status: "Enabled".into(),
            }),
            lifecycle_configuration: Some(LifecycleConfiguration {
                rules: vec![LifecycleRule {
                    id: "expire-old-versions".into(),
                    status: "Enabled".into(),
                    expiration_in_days: None,
                    noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                        noncurrent_days: 90,
                    }),
                    abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                        days_after_initiation: 1,
                    }),
                }],
            }),
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: "BucketOwnerEnforced".into(),
                }],
            }),
            ..Bucket::default()
        },
    );
    t.data_policy(&bucket, settings.data_policy);
    let greetings_path = Expr::concat(["/".into(), Expr::STACK_NAME, "/greetings/".into()]);
    for greeting in GREETINGS {
        t.add(
            &format!("Greeting{greeting}"),
            crate::ssm::Parameter {
                name: Expr::concat([greetings_path.clone(), greeting.to_lowercase().into()]),
                kind: "String".into(),
                value: greeting.into(),
                description: Some("A greeting the login function may answer with".into()),
            },
        );
    }

    // The functions, each with its own log group and role.
    let auth_logs = log_group(&mut t, settings, "AuthLogGroup", "auth");
    let login_logs = log_group(&mut t, settings, "LoginLogGroup", "login");
    let auth_role = function_role(
        &mut t,
        "AuthRole",
        "The auth function: reads its app client's secret",
        &auth_logs,
        vec![Statement::allow(
            &["cognito-idp:DescribeUserPoolClient"],
            vec![pool.arn()],
        )],
    );
    let greetings_arn = |suffix: &str| {
        Expr::arn(
            "ssm",
            [
                "parameter/".into(),
                Expr::STACK_NAME,
                format!("/greetings{suffix}").into(),
            ],
        )
    };
    let login_role = function_role(
        &mut t,
        "LoginRole",
        "The login function: records a login and reads the greetings",
        &login_logs,
        vec![
            Statement::allow(&["dynamodb:PutItem"], vec![table.arn()]),
            Statement::allow(&["s3:PutObject"], vec![bucket.objects_arn()]),
            Statement::allow(
                &["ssm:GetParametersByPath"],
                vec![greetings_arn(""), greetings_arn("/*")],
            ),
        ],
    );
    let auth_fn = function(
        &mut t,
        settings,
        "AuthFunction",
        "GET /auth: starts a sign-in; as the callback, trades the code for tokens and calls the login route",
        auth_code,
        &auth_role,
        &auth_logs,
        [
            (auth_env::AUTHORIZE_URL, endpoint("/oauth2/authorize")),
            (auth_env::TOKEN_URL, endpoint("/oauth2/token")),
            (auth_env::REVOKE_URL, endpoint("/oauth2/revoke")),
            (auth_env::CLIENT_ID, client.id()),
            (auth_env::USER_POOL_ID, pool.id()),
            (auth_env::REDIRECT_URI, callback_url.clone()),
            (auth_env::LOGIN_URL, login_url),
            (auth_env::SIGN_IN_URL, sign_in_url.clone()),
        ],
    );
    let login_fn = function(
        &mut t,
        settings,
        "LoginFunction",
        "GET /auth/login: records the login and greets the user",
        login_code,
        &login_role,
        &login_logs,
        [
            (login_env::TABLE_NAME, table.name()),
            (login_env::BUCKET_NAME, bucket.name()),
            (login_env::GREETINGS_PATH, greetings_path),
        ],
    );

    // The API: a public callback and a protected route behind the authorizer.
    let auth_path = t.add(
        "AuthPath",
        ApiResource {
            rest_api_id: api.id(),
            parent_id: api.root_resource_id(),
            path_part: routes::AUTH.into(),
        },
    );
    let login_path = t.add(
        "LoginPath",
        ApiResource {
            rest_api_id: api.id(),
            parent_id: auth_path.id(),
            path_part: routes::LOGIN.into(),
        },
    );
    let authorizer = t.add(
        "Authorizer",
        Authorizer {
            name: Expr::concat([Expr::STACK_NAME, "-cognito".into()]),
            rest_api_id: api.id(),
            kind: "COGNITO_USER_POOLS".into(),
            identity_source: "method.request.header.Authorization".into(),
            provider_arns: Some(vec![pool.arn()]),
        },
    );
    let auth_method = Method {
        rest_api_id: api.id(),
        resource_id: auth_path.id(),
        http_method: "GET".into(),
        authorization_type: "NONE".into(),
        authorizer_id: None,
        operation_name: Some("SignInCallback".into()),
        // What Cognito's redirect carries, all optional: without them the
        // request starts a sign-in.
        request_parameters: Some(
            ["code", "state", "error", "error_description"]
                .into_iter()
                .map(|name| (format!("method.request.querystring.{name}"), false))
                .collect(),
        ),
        integration: lambda_proxy(&auth_fn),
    };
    let login_method = Method {
        rest_api_id: api.id(),
        resource_id: login_path.id(),
        http_method: "GET".into(),
        authorization_type: "COGNITO_USER_POOLS".into(),
        authorizer_id: Some(authorizer.id()),
        operation_name: Some("RecordLogin".into()),
        request_parameters: None,
        integration: lambda_proxy(&login_fn),
    };
    // A deployment is a snapshot: CloudFormation only makes a new one when
    // its logical id changes, so the id carries a hash of the methods.
    let fingerprint = crate::names::fnv1a(&[
        &serde_json::to_string(&auth_method).unwrap_or_default(),
        &serde_json::to_string(&login_method).unwrap_or_default(),
    ]);
    let auth_method = t.add("AuthMethod", auth_method);
    t.skip_check(
        &auth_method,
        "CKV_AWS_59",
        "The sign-in start and callback are public by design: the person holds no token yet; a code is redeemed only with the state and PKCE verifier of the browser that started the sign-in",
    );
    let login_method = t.add("LoginMethod", login_method);
    let deployment = t.add(
        &format!("Deployment{fingerprint:08X}"),
        Deployment {
            rest_api_id: api.id(),
            description: Some("Replaced whenever a method changes, so changes go live".into()),
        },
    );
    t.depends_on(&deployment, &auth_method);
    t.depends_on(&deployment, &login_method);
    let access_logs = settings.api_access_logs.then(|| {
        let group = log_group(&mut t, settings, "ApiAccessLogGroup", "api-access");
        AccessLogSetting {
            destination_arn: group.destination_arn(),
            format: ACCESS_LOG_FORMAT.into(),
        }
    });
    let stage_resource = t.add(
        "Stage",
        Stage {
            rest_api_id: api.id(),
            deployment_id: deployment.id(),
            stage_name: stage.into(),
            description: None,
            tracing_enabled: Some(true),
            // One bucket per route: a flood of the public `/auth` leaves the
            // protected route its own limits, and the other way round.
            method_settings: Some(vec![
                route_throttle(&format!("/{}", routes::AUTH), settings.auth_throttle),
                route_throttle(
                    &format!("/{}/{}", routes::AUTH, routes::LOGIN),
                    settings.login_throttle,
                ),
            ]),
            access_log_setting: access_logs.clone(),
        },
    );
    if access_logs.is_none() {
        t.skip_check(
            &stage_resource,
            "CKV_AWS_76",
            "Access logging needs the account-wide API Gateway CloudWatch role; it is a setting (api_access_logs), off by default so a deploy never changes account settings",
        );
    }
    t.skip_check(
        &stage_resource,
        "CKV_AWS_120",
        "Responses are per user and per sign-in; caching them would serve one person's answer to another",
    );
    invoke_permission(
        &mut t,
        "AuthInvokePermission",
        &auth_fn,
        &api,
        stage,
        routes::AUTH,
    );
    invoke_permission(
        &mut t,
        "LoginInvokePermission",
        &login_fn,
        &api,
        stage,
        &format!("{}/{}", routes::AUTH, routes::LOGIN),
    );

    t.output(
        outputs::SIGN_IN_URL,
        "Open this to sign up or sign in (the API's /auth, which starts the sign-in)",
        sign_in_url,
    );
    t.output(
        outputs::API_URL,
        "The API's base URL (stage included)",
        api_url,
    );
    t.output(
        outputs::CALLBACK_URL,
        "Where Cognito sends the browser with the code",
        callback_url,
    );
    t.output(outputs::USER_POOL_ID, "The user pool's id", pool.id());
    t.output(
        outputs::CLIENT_ID,
        "The app client's id (its secret is never output)",
        client.id(),
    );
    t.output(
        outputs::TABLE_NAME,
        "The table that keeps every login",
        table.name(),
    );
    t.output(
        outputs::BUCKET_NAME,
        "The bucket that keeps each user's last login",
        bucket.name(),
    );
    t
}

/// The stage's settings for `GET path`: its throttling, and metrics.
fn route_throttle(path: &str, throttle: Throttle) -> MethodSetting {
    MethodSetting {
        // API Gateway's escaping: `/auth/login` is written `/~1auth~1login`.
        resource_path: format!("/{}", path.replace('/', "~1")),
        http_method: "GET".into(),
        throttling_burst_limit: Some(throttle.burst()),
        throttling_rate_limit: Some(throttle.rate()),
        metrics_enabled: Some(true),
    }
}

/// One JSON object per request; the fields API Gateway documents for `$context`.
const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","responseLength":"$context.responseLength","user":"$context.authorizer.claims.sub"}"#;

fn log_group(t: &mut Template, settings: &Settings, id: &str, name: &str) -> Handle<LogGroup> {
    let group = t.add(
        id,
        LogGroup {
            log_group_name: Some(Expr::concat([
                "/".into(),
                Expr::STACK_NAME,
                format!("/{name}").into(),
            ])),
            retention_in_days: Some(settings.log_retention.as_days()),
        },
    );
    t.skip_check(
        &group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest; a customer managed key adds cost and a key policy, and no secret is ever logged",
    );
    group
}

fn function_role(
    t: &mut Template,
    id: &str,
    description: &str,
    logs: &Handle<LogGroup>,
    mut statements: Vec<Statement>,
) -> Handle<Role> {
    statements.push(Statement::allow(
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![logs.arn()],
    ));
    t.add(
        id,
        Role {
            description: Some(description.into()),
            assume_role_policy_document: PolicyDocument::new(vec![Statement::assume_role(
                "lambda.amazonaws.com",
            )]),
            policies: Some(vec![Policy {
                policy_name: "least-privilege".into(),
                policy_document: PolicyDocument::new(statements),
            }]),
        },
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call per function; a struct would only rename the arguments"
)]
fn function<const N: usize>(
    t: &mut Template,
    settings: &Settings,
    id: &str,
    description: &str,
    code: Code,
    role: &Handle<Role>,
    logs: &Handle<LogGroup>,
    environment: [(&str, Expr); N],
) -> Handle<Function> {
    let function = t.add(
        id,
        Function {
            description: Some(description.into()),
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            code,
            role: role.arn(),
            architectures: Some(vec![settings.architecture.as_str().into()]),
            memory_size: Some(256),
            timeout: Some(15),
            environment: Some(Environment {
                variables: environment
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value))
                    .collect(),
            }),
            logging_config: Some(LoggingConfig {
                log_group: logs.name(),
                log_format: "JSON".into(),
            }),
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
        t.skip_check(&function, check, reason);
    }
    function
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

/// Lets API Gateway invoke `function` for exactly one method and path.
fn invoke_permission(
    t: &mut Template,
    id: &str,
    function: &Handle<Function>,
    api: &Handle<RestApi>,
    stage: &str,
    path: &str,
) {
    t.add(
        id,
        Permission {
            action: "lambda:InvokeFunction".into(),
            function_name: function.arn(),
            principal: "apigateway.amazonaws.com".into(),
            source_arn: Some(Expr::arn(
                "execute-api",
                [api.id(), format!("/{stage}/GET/{path}").into()],
            )),
            source_account: Some(Expr::ACCOUNT_ID),
        },
    );
}
