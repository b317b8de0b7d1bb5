//! The synthesized templates: a reviewed snapshot of each, and the wiring
//! checked by meaning, so a change that breaks the design fails here even
//! when someone refreshes the snapshot without reading it.
//!
//! Refresh the snapshots with `UPDATE_EXPECT=1 cargo test -p infra`, then
//! review the diff.

use expect_test::expect_file;
use infra::stack::{GREETINGS, outputs, params};
use infra::{Mfa, Settings, StackName, Template, Throttle};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn settings() -> Settings {
    Settings::new(StackName::new("demo").unwrap())
}

fn template() -> Value {
    let template = infra::sign_in_stack(&settings());
    template.to_value().unwrap()
}

fn resource<'a>(template: &'a Value, id: &str) -> &'a Value {
    let resource = &template["Resources"][id];
    assert!(resource.is_object(), "no resource {id}");
    resource
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

fn r#ref(id: &str) -> Value {
    json!({ "Ref": id })
}

fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

/// `Fn::Join` with an empty separator, flattened to its parts, so URLs can
/// be compared part by part.
fn parts(value: &Value) -> Vec<Value> {
    match value.get("Fn::Join") {
        Some(join) if join[0] == "" => join[1].as_array().unwrap().iter().flat_map(parts).collect(),
        _ => vec![value.clone()],
    }
}

fn join(parts: &[Value]) -> String {
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("")
}

#[test]
fn sign_in_stack_snapshot() {
    expect_file!["../snapshots/sign-in.json"]
        .assert_eq(&infra::sign_in_stack(&settings()).to_json().unwrap());
}

#[test]
fn artifacts_stack_snapshot() {
    let template = infra::artifacts_stack();
    expect_file!["../snapshots/artifacts.json"].assert_eq(&template.to_json().unwrap());
}

#[test]
fn synthesis_is_deterministic_and_yaml_says_the_same() {
    let a = infra::sign_in_stack(&settings());
    let b = infra::sign_in_stack(&settings());
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
    let from_yaml: Value = serde_norway::from_str(&a.to_yaml().unwrap()).unwrap();
    assert_eq!(from_yaml, a.to_value().unwrap());
}

#[test]
fn template_fits_inline_in_a_create_stack_call() {
    // CloudFormation takes at most 51,200 bytes of template body inline.
    let mut settings = settings();
    settings.stack_name = StackName::new(&format!("a{}", "b".repeat(127))).unwrap();
    settings.api_access_logs = true;
    settings.mfa = Mfa::Required;
    let size = infra::sign_in_stack(&settings).to_json().unwrap().len();
    assert!(size < 51_200, "{size} bytes");
}

#[test]
fn the_authorizer_checks_tokens_of_the_stacks_own_pool() {
    let t = template();
    let authorizer = resource(&t, "Authorizer");
    assert_eq!(authorizer["Properties"]["Type"], "COGNITO_USER_POOLS");
    assert_eq!(
        authorizer["Properties"]["ProviderARNs"],
        json!([get_att("UserPool", "Arn")])
    );
    assert_eq!(
        authorizer["Properties"]["IdentitySource"],
        "method.request.header.Authorization"
    );
    let login = &resource(&t, "LoginMethod")["Properties"];
    assert_eq!(login["AuthorizationType"], "COGNITO_USER_POOLS");
    assert_eq!(login["AuthorizerId"], r#ref("Authorizer"));
    let auth = &resource(&t, "AuthMethod")["Properties"];
    assert_eq!(auth["AuthorizationType"], "NONE");
}

#[test]
fn callback_url_is_the_apis_auth_url_built_from_the_rest_api_id() {
    let t = template();
    let callback = parts(&t["Outputs"][outputs::CALLBACK_URL]["Value"]);
    let expected = [
        json!("https://"),
        r#ref("Api"),
        json!(".execute-api."),
        r#ref("AWS::Region"),
        json!("."),
        r#ref("AWS::URLSuffix"),
        json!("/dev/auth"),
    ];
    assert_eq!(join(&callback), join(&expected));
    let client = &resource(&t, "UserPoolClient")["Properties"];
    assert_eq!(parts(&client["CallbackURLs"][0]), callback);
    let env = &resource(&t, "AuthFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(parts(&env["REDIRECT_URI"]), callback);
    let mut login = callback.clone();
    *login.last_mut().unwrap() = json!("/dev/auth/login");
    assert_eq!(parts(&env["LOGIN_URL"]), login);
    // The API's paths are the ones the URLs name.
    assert_eq!(resource(&t, "AuthPath")["Properties"]["PathPart"], "auth");
    assert_eq!(
        resource(&t, "LoginPath")["Properties"]["ParentId"],
        r#ref("AuthPath")
    );
    assert_eq!(resource(&t, "LoginPath")["Properties"]["PathPart"], "login");
}

#[test]
fn the_app_client_uses_the_code_grant_with_a_secret_that_never_leaves_cognito() {
    let t = template();
    let client = &resource(&t, "UserPoolClient")["Properties"];
    assert_eq!(client["GenerateSecret"], true);
    assert_eq!(client["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(client["AllowedOAuthScopes"], json!(["openid", "email"]));
    assert_eq!(client["UserPoolId"], r#ref("UserPool"));
    let text = t.to_string();
    assert!(
        !text.contains("ClientSecret"),
        "the secret is referenced somewhere"
    );
}

#[test]
fn a_sign_in_starts_at_the_api_and_the_function_knows_the_hosted_uis_endpoints() {
    let t = template();
    // The sign-in link is the API's /auth: the function makes the state,
    // the PKCE challenge and the nonce before sending anyone to Cognito.
    let callback = parts(&t["Outputs"][outputs::CALLBACK_URL]["Value"]);
    assert_eq!(
        parts(&t["Outputs"][outputs::SIGN_IN_URL]["Value"]),
        callback
    );
    let env = &resource(&t, "AuthFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(parts(&env["SIGN_IN_URL"]), callback);
    let hosted_ui = |path: &str| {
        vec![
            json!("https://"),
            r#ref("UserPoolDomain"),
            json!(".auth."),
            r#ref("AWS::Region"),
            json!(format!(".amazoncognito.com{path}")),
        ]
    };
    assert_eq!(parts(&env["AUTHORIZE_URL"]), hosted_ui("/oauth2/authorize"));
    assert_eq!(parts(&env["TOKEN_URL"]), hosted_ui("/oauth2/token"));
    assert_eq!(parts(&env["REVOKE_URL"]), hosted_ui("/oauth2/revoke"));
    // No URL in the template carries a query: the authorize request is built per sign-in.
    assert!(!t.to_string().contains("oauth2/authorize?"));
}

#[test]
fn the_pool_waits_for_a_new_email_to_be_verified_and_mfa_is_a_setting_that_is_off_by_default() {
    let pool = |settings: &Settings| {
        infra::sign_in_stack(settings).to_value().unwrap()["Resources"]["UserPool"]["Properties"]
            .clone()
    };
    let off = pool(&settings());
    assert_eq!(
        off["UserAttributeUpdateSettings"],
        json!({ "AttributesRequireVerificationBeforeUpdate": ["email"] })
    );
    assert_eq!(off["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(off["MfaConfiguration"], "OFF");
    assert!(off.get("EnabledMfas").is_none(), "{off}");

    let mut required = settings();
    required.mfa = Mfa::Required;
    let on = pool(&required);
    assert_eq!(on["MfaConfiguration"], "ON");
    assert_eq!(on["EnabledMfas"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert!(on.get("SmsConfiguration").is_none(), "TOTP needs no SMS");
    assert_eq!(
        on["UserAttributeUpdateSettings"],
        off["UserAttributeUpdateSettings"]
    );
}

#[test]
fn the_client_reads_and_writes_only_what_the_flow_needs_and_its_tokens_live_as_short_as_cognito_allows()
 {
    let t = template();
    let client = &resource(&t, "UserPoolClient")["Properties"];
    assert_eq!(client["ReadAttributes"], json!(["email", "email_verified"]));
    assert_eq!(client["WriteAttributes"], json!(["email"]));
    assert_eq!(client["EnableTokenRevocation"], true);
    // Cognito's minimums: 3 minutes of hosted-UI session, 5 minutes of ID
    // and access token, 60 minutes of refresh token (which the auth
    // function revokes anyway).
    let minutes = |name: &str, unit: &str| {
        assert_eq!(client["TokenValidityUnits"][unit], "minutes", "{unit}");
        client[name].as_u64().unwrap()
    };
    assert_eq!(client["AuthSessionValidity"], 3);
    assert_eq!(minutes("IdTokenValidity", "IdToken"), 5);
    assert_eq!(minutes("AccessTokenValidity", "AccessToken"), 5);
    assert_eq!(minutes("RefreshTokenValidity", "RefreshToken"), 60);
}

#[test]
fn each_route_has_its_own_throttling_from_the_settings() {
    let throttles = |settings: &Settings| -> Vec<(String, String, f64, u64)> {
        let t = infra::sign_in_stack(settings).to_value().unwrap();
        t["Resources"]["Stage"]["Properties"]["MethodSettings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["MetricsEnabled"], true);
                (
                    m["ResourcePath"].as_str().unwrap().to_owned(),
                    m["HttpMethod"].as_str().unwrap().to_owned(),
                    m["ThrottlingRateLimit"].as_f64().unwrap(),
                    m["ThrottlingBurstLimit"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // The resource paths are API Gateway's escaped ones for /auth and
    // /auth/login, the paths of the two methods; no stage-wide "/*".
    assert_eq!(
        throttles(&settings()),
        [
            ("/~1auth".to_owned(), "GET".to_owned(), 10.0, 20),
            ("/~1auth~1login".to_owned(), "GET".to_owned(), 5.0, 10),
        ]
    );
    let mut custom = settings();
    custom.auth_throttle = Throttle::new(2.5, 4).unwrap();
    custom.login_throttle = Throttle::new(1.0, 2).unwrap();
    assert_eq!(
        throttles(&custom),
        [
            ("/~1auth".to_owned(), "GET".to_owned(), 2.5, 4),
            ("/~1auth~1login".to_owned(), "GET".to_owned(), 1.0, 2),
        ]
    );
}

#[test]
fn each_role_allows_exactly_its_own_resources() {
    let t = template();
    let statements = |role: &str| -> Vec<(Value, Value)> {
        let policies = resource(&t, role)["Properties"]["Policies"]
            .as_array()
            .unwrap();
        policies
            .iter()
            .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
            .map(|s| {
                assert_eq!(s["Effect"], "Allow");
                (s["Action"].clone(), s["Resource"].clone())
            })
            .collect()
    };
    let ssm_path = |suffix: &str| {
        json!({ "Fn::Join": ["", [
            "arn:", r#ref("AWS::Partition"), ":ssm:", r#ref("AWS::Region"), ":",
            r#ref("AWS::AccountId"), ":parameter/", r#ref("AWS::StackName"),
            format!("/greetings{suffix}"),
        ]] })
    };
    assert_eq!(
        statements("LoginRole"),
        vec![
            (
                json!(["dynamodb:PutItem"]),
                json!([get_att("LoginTable", "Arn")])
            ),
            (
                json!(["s3:PutObject"]),
                json!([{ "Fn::Join": ["", [get_att("LoginBucket", "Arn"), "/*"]] }])
            ),
            (
                json!(["ssm:GetParametersByPath"]),
                json!([ssm_path(""), ssm_path("/*")])
            ),
            (
                json!(["logs:CreateLogStream", "logs:PutLogEvents"]),
                json!([get_att("LoginLogGroup", "Arn")])
            ),
        ]
    );
    assert_eq!(
        statements("AuthRole"),
        vec![
            (
                json!(["cognito-idp:DescribeUserPoolClient"]),
                json!([get_att("UserPool", "Arn")])
            ),
            (
                json!(["logs:CreateLogStream", "logs:PutLogEvents"]),
                json!([get_att("AuthLogGroup", "Arn")])
            ),
        ]
    );
    for (id, function) in of_type(&t, "AWS::Lambda::Function") {
        let role = if id == "AuthFunction" {
            "AuthRole"
        } else {
            "LoginRole"
        };
        assert_eq!(function["Properties"]["Role"], get_att(role, "Arn"), "{id}");
    }
    // No wildcard action or resource anywhere outside the TLS-only deny.
    for (id, role) in of_type(&t, "AWS::IAM::Role") {
        let text = role.to_string();
        assert!(
            !text.contains(r#""*""#) && !text.contains(":*\""),
            "{id}: {text}"
        );
    }
}

#[test]
fn every_function_logs_to_its_own_log_group_with_retention() {
    let t = template();
    let functions = of_type(&t, "AWS::Lambda::Function");
    assert_eq!(functions.len(), 2);
    for (id, function) in functions {
        let group = id.replace("Function", "LogGroup");
        let props = &function["Properties"];
        assert_eq!(
            props["LoggingConfig"],
            json!({ "LogGroup": r#ref(&group), "LogFormat": "JSON" }),
            "{id}"
        );
        assert_eq!(resource(&t, &group)["Properties"]["RetentionInDays"], 30);
        assert_eq!(props["Runtime"], "provided.al2023");
        assert_eq!(props["Handler"], "bootstrap");
    }
}

#[test]
fn functions_get_exactly_the_environment_of_the_contract() {
    let t = template();
    let names = |id: &str| -> Vec<String> {
        resource(&t, id)["Properties"]["Environment"]["Variables"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(names("AuthFunction"), env_contract::auth::ALL);
    assert_eq!(names("LoginFunction"), env_contract::login::ALL);
    let env = &resource(&t, "LoginFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(env["TABLE_NAME"], r#ref("LoginTable"));
    assert_eq!(env["BUCKET_NAME"], r#ref("LoginBucket"));
    assert_eq!(
        env["GREETINGS_PATH"],
        json!({ "Fn::Join": ["", ["/", r#ref("AWS::StackName"), "/greetings/"]] })
    );
}

#[test]
fn greetings_live_under_the_stacks_path() {
    let t = template();
    let parameters = of_type(&t, "AWS::SSM::Parameter");
    let values: Vec<&str> = parameters
        .iter()
        .map(|(_, p)| p["Properties"]["Value"].as_str().unwrap())
        .collect();
    assert_eq!(values, GREETINGS);
    for (_, parameter) in parameters {
        let name = parts(&parameter["Properties"]["Name"]);
        assert_eq!(name[..2], [json!("/"), r#ref("AWS::StackName")]);
        assert!(name[2].as_str().unwrap().starts_with("/greetings/"));
        assert_eq!(parameter["Properties"]["Type"], "String");
    }
}

#[test]
fn permissions_are_scoped_to_exactly_their_method_and_path() {
    let t = template();
    for (permission, function, path) in [
        ("AuthInvokePermission", "AuthFunction", "/dev/GET/auth"),
        (
            "LoginInvokePermission",
            "LoginFunction",
            "/dev/GET/auth/login",
        ),
    ] {
        let props = &resource(&t, permission)["Properties"];
        assert_eq!(props["FunctionName"], get_att(function, "Arn"));
        assert_eq!(props["Principal"], "apigateway.amazonaws.com");
        let arn = parts(&props["SourceArn"]);
        assert_eq!(arn[arn.len() - 2..], [r#ref("Api"), json!(path)]);
    }
}

#[test]
fn a_method_change_replaces_the_deployment_and_the_stage_follows() {
    let deployment = |settings: &Settings| -> String {
        of_type(
            &infra::sign_in_stack(settings).to_value().unwrap(),
            "AWS::ApiGateway::Deployment",
        )
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect()
    };
    let before = deployment(&settings());
    assert!(before.starts_with("Deployment"), "{before}");
    let t = template();
    let stage = &resource(&t, "Stage")["Properties"];
    assert_eq!(stage["DeploymentId"], r#ref(&before));
    assert_eq!(
        resource(&t, &before)["DependsOn"],
        json!(["AuthMethod", "LoginMethod"])
    );
    // Another stage changes the methods' permissions, not the methods: same deployment.
    let mut other = settings();
    other.stage = infra::StageName::new("prod").unwrap();
    assert_eq!(deployment(&other), before);
}

#[test]
fn access_logs_are_a_setting_that_is_off_by_default() {
    let t = template();
    assert!(
        resource(&t, "Stage")["Properties"]
            .get("AccessLogSetting")
            .is_none()
    );
    assert!(t["Resources"].get("ApiAccessLogGroup").is_none());
    let mut settings = settings();
    settings.api_access_logs = true;
    let t = infra::sign_in_stack(&settings).to_value().unwrap();
    let access = &resource(&t, "Stage")["Properties"]["AccessLogSetting"];
    let arn = parts(&access["DestinationArn"]);
    assert_eq!(arn.last(), Some(&r#ref("ApiAccessLogGroup")));
}

/// Exactly the stateful resources say what becomes of their data, and
/// `--retain-data` turns every one of them to Retain.
#[test]
fn the_pool_table_and_data_bucket_say_what_becomes_of_their_data() {
    const STATEFUL: [&str; 3] = ["UserPool", "LoginTable", "LoginBucket"];
    let with_policy = |t: &Value| -> Vec<(String, String, String)> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| {
                r.get("DeletionPolicy").is_some() || r.get("UpdateReplacePolicy").is_some()
            })
            .map(|(id, r)| {
                (
                    id.clone(),
                    r["DeletionPolicy"].as_str().unwrap().to_owned(),
                    r["UpdateReplacePolicy"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let policies = |policy: &str| -> Vec<(String, String, String)> {
        STATEFUL
            .iter()
            .map(|id| ((*id).to_owned(), policy.to_owned(), policy.to_owned()))
            .collect()
    };
    assert_eq!(with_policy(&template()), policies("Delete"));
    let mut settings = settings();
    settings.data_policy = infra::DataPolicy::Retain;
    let kept = infra::sign_in_stack(&settings).to_value().unwrap();
    assert_eq!(with_policy(&kept), policies("Retain"));
}

#[test]
fn names_derive_from_the_stack_name() {
    let t = template();
    // Explicit names are built from AWS::StackName; no literal "demo" leaks in.
    let text = serde_json::to_string(&t["Resources"]).unwrap();
    assert!(!text.contains("demo"), "a name was hard-coded");
    assert_eq!(
        resource(&t, "AuthLogGroup")["Properties"]["LogGroupName"],
        json!({ "Fn::Join": ["", ["/", r#ref("AWS::StackName"), "/auth"]] })
    );
    // The table, bucket, functions and roles take CloudFormation's
    // generated names, which start with the stack name.
    for id in ["LoginTable", "LoginBucket", "AuthFunction", "LoginRole"] {
        let props = resource(&t, id)["Properties"].as_object().unwrap();
        for name in ["TableName", "BucketName", "FunctionName", "RoleName"] {
            assert!(!props.contains_key(name), "{id} sets {name}");
        }
    }
}

#[test]
fn data_is_private_encrypted_and_kept() {
    let t = template();
    let bucket = &resource(&t, "LoginBucket")["Properties"];
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"],
        json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true })
    );
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "aws:kms"
    );
    let policy = &resource(&t, "LoginBucketPolicy")["Properties"];
    assert_eq!(policy["Bucket"], r#ref("LoginBucket"));
    let deny = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Condition"],
        json!({ "Bool": { "aws:SecureTransport": "false" } })
    );
    let table = &resource(&t, "LoginTable")["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["KeySchema"],
        json!([{ "AttributeName": "username", "KeyType": "HASH" }, { "AttributeName": "timestamp", "KeyType": "RANGE" }])
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    // No account-wide switch: nothing in the stack touches account settings.
    assert!(of_type(&t, "AWS::S3::AccountPublicAccessBlock").is_empty());
    assert!(of_type(&t, "AWS::ApiGateway::Account").is_empty());
}

#[test]
fn parameters_and_outputs_are_the_documented_ones() {
    let template: Template = infra::sign_in_stack(&settings());
    let names: Vec<&str> = template.parameters().collect();
    assert_eq!(
        names,
        [
            params::DOMAIN_PREFIX,
            params::AUTH_CODE_BUCKET,
            params::AUTH_CODE_KEY,
            params::LOGIN_CODE_BUCKET,
            params::LOGIN_CODE_KEY
        ]
    );
    let t = template.to_value().unwrap();
    let outputs: Vec<&String> = t["Outputs"].as_object().unwrap().keys().collect();
    assert_eq!(outputs, outputs::ALL);
}
