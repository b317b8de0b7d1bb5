//! Tests of the front against moto: the authorizer on real moto tokens, the discovery of an API
//! shaped like the stack's, and the served API with a fake function invoker.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_sdk_apigateway::types::{AuthorizerType, IntegrationType, Op, PatchOperation};
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use base64::Engine as _;
use pretty_assertions::assert_eq;
use serde::Deserialize as _;
use serde_json::{Value, json};

use super::authorizer::{Authorizer, Denied};
use super::*;
use crate::moto::{Moto, REGION};

/// moto's account id.
const ACCOUNT: &str = "123456789012";
const PASSWORD: &str = "Corr3ct-Horse!";

/// One moto server for every test in this file; it exits with the test process
/// (its launcher stops when its standard input closes).
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start().unwrap())
}

/// Two pools, and real moto tokens from each.
struct Pools {
    pool_id: String,
    pool_arn: String,
    client_id: String,
    id_token: String,
    access_token: String,
    other_pool_id: String,
    other_id_token: String,
}

async fn pools() -> &'static Pools {
    static POOLS: tokio::sync::OnceCell<Pools> = tokio::sync::OnceCell::const_new();
    POOLS
        .get_or_init(|| async {
            let cognito = aws_sdk_cognitoidentityprovider::Client::new(&moto().sdk_config().await);
            let (pool_id, pool_arn, client_id, id_token, access_token) =
                pool_with_user(&cognito, "front-pool").await;
            let (other_pool_id, _, _, other_id_token, _) =
                pool_with_user(&cognito, "other-pool").await;
            Pools {
                pool_id,
                pool_arn,
                client_id,
                id_token,
                access_token,
                other_pool_id,
                other_id_token,
            }
        })
        .await
}

/// A pool, a client, a confirmed user, and that user's (ID, access) tokens.
async fn pool_with_user(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    name: &str,
) -> (String, String, String, String, String) {
    let pool = cognito
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    let pool_id = pool.id.unwrap();
    let client_id = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let username = "ann@example.com";
    cognito
        .sign_up()
        .client_id(&client_id)
        .username(username)
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    cognito
        .admin_confirm_sign_up()
        .user_pool_id(&pool_id)
        .username(username)
        .send()
        .await
        .unwrap();
    let tokens = cognito
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    (
        pool_id,
        pool.arn.unwrap(),
        client_id,
        tokens.id_token.unwrap(),
        tokens.access_token.unwrap(),
    )
}

fn spec(pool_id: &str) -> CognitoAuthorizer {
    CognitoAuthorizer {
        id: "authz".into(),
        name: "cognito".into(),
        identity_header: "Authorization".into(),
        user_pool_ids: vec![pool_id.to_owned()],
        identity_validation_expression: None,
    }
}

async fn authorizer(spec: &CognitoAuthorizer) -> Authorizer {
    Authorizer::fetch(spec, moto().endpoint(), REGION)
        .await
        .unwrap()
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn exp_of(token: &str) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(payload(token)["exp"].as_u64().unwrap())
}

fn b64(json: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Every authorizer case with its exact answer, against real moto tokens.
#[tokio::test]
async fn authorizer_answers_as_api_gateway_does() {
    let pools = pools().await;
    let authorizer = authorizer(&spec(&pools.pool_id)).await;
    let now = SystemTime::now();
    let id = pools.id_token.as_str();
    let [header, body, signature] = id.split('.').collect::<Vec<_>>()[..] else {
        panic!("an ID token has three parts");
    };

    let bare = authorizer.verify(Some(id), &[], now).unwrap();
    assert_eq!(bare.raw()["token_use"], "id");
    assert_eq!(
        bare.raw()["iss"],
        format!(
            "https://cognito-idp.{REGION}.amazonaws.com/{}",
            pools.pool_id
        )
    );
    let bearer = authorizer
        .verify(Some(&format!("Bearer {id}")), &[], now)
        .unwrap();
    assert_eq!(bearer, bare);

    let mut flipped: Vec<char> = signature.chars().collect();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == 'A' { 'B' } else { 'A' };
    let tampered = format!(
        "{header}.{body}.{}",
        flipped.into_iter().collect::<String>()
    );
    let alg_none = format!(
        "{}.{body}.",
        b64(&json!({"typ": "JWT", "kid": "dummy", "alg": "none"}))
    );
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("dummy".into()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &payload(id),
        &jsonwebtoken::EncodingKey::from_secret(b"anyone can sign this").unwrap(),
    )
    .unwrap();
    let unknown_kid = format!(
        "{}.{body}.{signature}",
        b64(&json!({"typ": "JWT", "kid": "another", "alg": "RS256"}))
    );
    let cases: [(&str, Option<&str>); 8] = [
        ("no header", None),
        ("empty header", Some("")),
        ("garbage", Some("not-a-token")),
        ("another pool's token", Some(&pools.other_id_token)),
        ("a tampered signature", Some(&tampered)),
        ("alg none", Some(&alg_none)),
        ("HS256", Some(&hs256)),
        ("an unknown kid", Some(&unknown_kid)),
    ];
    for (case, value) in cases {
        assert_eq!(
            authorizer.verify(value, &[], now),
            Err(Denied::Unauthorized),
            "{case}"
        );
    }
    assert_eq!(
        authorizer.verify(Some(&pools.access_token), &[], now),
        Err(Denied::Unauthorized),
        "an access token on a method without scopes"
    );

    let exp = exp_of(id);
    assert_eq!(
        authorizer.verify(Some(id), &[], exp),
        Err(Denied::Expired),
        "exp == now is expired: no leeway"
    );
    assert!(
        authorizer
            .verify(Some(id), &[], exp - Duration::from_secs(1))
            .is_ok()
    );
    assert_eq!(
        authorizer.verify(Some(&tampered), &[], exp),
        Err(Denied::Unauthorized),
        "the signature is checked before the expiry"
    );

    let answers = [Denied::Unauthorized, Denied::Expired].map(|denied| {
        (
            denied.status().as_u16(),
            denied.message(),
            denied.error_type(),
        )
    });
    assert_eq!(
        answers,
        [
            (401, "Unauthorized", "UnauthorizedException"),
            (
                401,
                "The incoming token has expired",
                "UnauthorizedException"
            ),
        ]
    );
}

#[tokio::test]
async fn scoped_methods_want_an_access_token_with_one_of_the_scopes() {
    let pools = pools().await;
    let authorizer = authorizer(&spec(&pools.pool_id)).await;
    let now = SystemTime::now();
    // moto's access tokens carry this one scope.
    let granted = [
        "openid".to_owned(),
        "aws.cognito.signin.user.admin".to_owned(),
    ];
    let claims = authorizer
        .verify(Some(&pools.access_token), &granted, now)
        .unwrap();
    assert_eq!(claims.raw()["token_use"], "access");
    assert_eq!(
        authorizer.verify(Some(&pools.access_token), &["email".to_owned()], now),
        Err(Denied::Unauthorized)
    );
    assert_eq!(
        authorizer.verify(Some(&pools.id_token), &granted, now),
        Err(Denied::Unauthorized),
        "an ID token on a scoped method"
    );
}

#[tokio::test]
async fn identity_validation_expression_is_a_whole_match_on_aud() {
    let pools = pools().await;
    let now = SystemTime::now();
    let mut matching = spec(&pools.pool_id);
    matching.identity_validation_expression = Some(pools.client_id.clone());
    assert!(
        authorizer(&matching)
            .await
            .verify(Some(&pools.id_token), &[], now)
            .is_ok()
    );
    let mut prefix = spec(&pools.pool_id);
    prefix.identity_validation_expression = Some(pools.client_id[..4].to_owned());
    assert_eq!(
        authorizer(&prefix)
            .await
            .verify(Some(&pools.id_token), &[], now),
        Err(Denied::Unauthorized)
    );
}

#[tokio::test]
async fn an_authorizer_of_two_pools_accepts_both() {
    let pools = pools().await;
    let mut both = spec(&pools.pool_id);
    both.user_pool_ids.push(pools.other_pool_id.clone());
    let authorizer = authorizer(&both).await;
    let now = SystemTime::now();
    for token in [&pools.id_token, &pools.other_id_token] {
        assert!(authorizer.verify(Some(token), &[], now).is_ok());
    }
}

/// The AWS_PROXY uri of a function, as the stack writes it.
fn lambda_uri(name: &str) -> String {
    format!(
        "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/\
         arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}/invocations"
    )
}

/// Method settings to patch into the stage: (resource path key, rate, burst).
type Settings<'a> = &'a [(&'a str, f64, i32)];

/// Creates in moto a REST API shaped like the stack's (`/auth` GET NONE, `/auth/login`
/// GET behind a Cognito authorizer, AWS_PROXY integrations, stage `dev`) and returns its id.
async fn create_api(pools: &Pools, settings: Settings<'_>) -> String {
    let apigw = aws_sdk_apigateway::Client::new(&moto().sdk_config().await);
    let api_id = apigw
        .create_rest_api()
        .name("sign-in-api")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let resources = apigw
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let root = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let resource = |parent: String, part: &'static str| {
        let apigw = apigw.clone();
        let api_id = api_id.clone();
        async move {
            apigw
                .create_resource()
                .rest_api_id(api_id)
                .parent_id(parent)
                .path_part(part)
                .send()
                .await
                .unwrap()
                .id
                .unwrap()
        }
    };
    let auth = resource(root, "auth").await;
    let login = resource(auth.clone(), "login").await;
    let authorizer_id = apigw
        .create_authorizer()
        .rest_api_id(&api_id)
        .name("sign-in-cognito")
        .r#type(AuthorizerType::CognitoUserPools)
        .provider_arns(&pools.pool_arn)
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    for (resource_id, function, authorizer, timeout) in [
        (&auth, "auth-fn", None, None),
        (&login, "login-fn", Some(&authorizer_id), Some(5_000)),
    ] {
        apigw
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(resource_id)
            .http_method("GET")
            .authorization_type(if authorizer.is_some() {
                "COGNITO_USER_POOLS"
            } else {
                "NONE"
            })
            .set_authorizer_id(authorizer.cloned())
            .send()
            .await
            .unwrap();
        apigw
            .put_integration()
            .rest_api_id(&api_id)
            .resource_id(resource_id)
            .http_method("GET")
            .r#type(IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(lambda_uri(function))
            .set_timeout_in_millis(timeout)
            .send()
            .await
            .unwrap();
    }
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let mut patch = apigw.update_stage().rest_api_id(&api_id).stage_name("dev");
    for (key, rate, burst) in settings {
        for (field, value) in [
            ("rateLimit", rate.to_string()),
            ("burstLimit", burst.to_string()),
        ] {
            patch = patch.patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path(format!("/{key}/throttling/{field}"))
                    .value(value)
                    .build(),
            );
        }
    }
    if !settings.is_empty() {
        patch.send().await.unwrap();
    }
    api_id
}

async fn discovered(pools: &Pools, settings: Settings<'_>) -> RestApi {
    let api_id = create_api(pools, settings).await;
    let apigw = aws_sdk_apigateway::Client::new(&moto().sdk_config().await);
    RestApi::discover(&apigw, &api_id, "dev").await.unwrap()
}

#[tokio::test]
async fn discovery_reads_routes_authorizer_functions_and_throttling() {
    let pools = pools().await;
    let settings: Settings = &[("*/*", 10.0, 20), ("~1auth~1login/GET", 1.0, 2)];
    let api = discovered(pools, settings).await;
    assert_eq!(api.name, "sign-in-api");
    assert_eq!(api.stage.name, "dev");
    assert_eq!(
        api.stage.throttling,
        Throttling {
            default: Limits {
                rate: 10.0,
                burst: 20
            },
            methods: BTreeMap::from([(
                ("/auth/login".to_owned(), "GET".to_owned()),
                Limits {
                    rate: 1.0,
                    burst: 2
                }
            )]),
        }
    );
    let routes: Vec<_> = api
        .routes
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.method.as_str(),
                r.function.as_str(),
                r.function_arn.as_str(),
                r.timeout,
                r.authorization.clone(),
            )
        })
        .collect();
    let arn = |name: &str| format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
    let Authorization::CognitoUserPools { authorizer, .. } = &api.routes[1].authorization else {
        panic!("/auth/login is behind the authorizer");
    };
    assert_eq!(
        routes,
        [
            (
                "/auth",
                "GET",
                "auth-fn",
                arn("auth-fn").as_str(),
                Duration::from_secs(29),
                Authorization::None
            ),
            (
                "/auth/login",
                "GET",
                "login-fn",
                arn("login-fn").as_str(),
                Duration::from_secs(5),
                Authorization::CognitoUserPools {
                    authorizer: CognitoAuthorizer {
                        id: authorizer.id.clone(),
                        name: "sign-in-cognito".into(),
                        identity_header: "Authorization".into(),
                        user_pool_ids: vec![pools.pool_id.clone()],
                        identity_validation_expression: None,
                    },
                    scopes: Vec::new(),
                }
            ),
        ]
    );
    assert!(!authorizer.id.is_empty());
    assert_eq!(api.user_pool_ids(), std::slice::from_ref(&pools.pool_id));
}

/// What the fake function answers, given the function name and the event.
type Answer = Box<
    dyn Fn(String, Value) -> Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send>>
        + Send
        + Sync,
>;

/// A function invoker that records every event and answers with a closure.
struct Fake {
    answer: Answer,
    seen: Mutex<Vec<(String, Value)>>,
}

impl Fake {
    fn new(answer: Answer) -> Arc<Self> {
        Arc::new(Self {
            answer,
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Answers every invocation with the same payload.
    fn answering(payload: Value) -> Arc<Self> {
        Self::new(Box::new(move |_, _| {
            let payload = payload.clone();
            Box::pin(async move { Ok(payload) })
        }))
    }

    fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Invoke for Fake {
    fn invoke(
        &self,
        function: &str,
        event: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send + '_>> {
        self.seen
            .lock()
            .unwrap()
            .push((function.to_owned(), event.clone()));
        (self.answer)(function.to_owned(), event)
    }
}

/// A front served on 127.0.0.1:0 until `stop`.
struct Running {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

async fn serve(api: RestApi, invoker: Arc<dyn Invoke>, clock: crate::Clock) -> Running {
    let front = Front::new(api, moto().endpoint(), REGION, ACCOUNT, invoker, clock)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Arc::new(front)
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Running { base, stop, task }
}

fn ok(body: &str) -> Value {
    json!({"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": body})
}

/// The keys of an object, for comparing shapes.
fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The crate's fixture, `aws_lambda_events` 1.2.1 `src/fixtures/example-apigw-request.json`.
const FIXTURE: &str = include_str!("testdata/example-apigw-request.json");

#[tokio::test]
async fn the_event_has_the_proxy_shape_and_the_claims_as_strings() {
    let pools = pools().await;
    let fake = Fake::answering(ok("welcome"));
    let running = serve(
        discovered(pools, &[]).await,
        fake.clone(),
        crate::system_clock(),
    )
    .await;
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/dev/auth/login?x=1&x=2&y=a%20b", running.base))
        .header("Authorization", &pools.id_token)
        .header("User-Agent", "front-test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(response.text().await.unwrap(), "welcome");

    let seen = fake.seen();
    let [(function, event)] = &seen[..] else {
        panic!("one invocation, got {seen:?}");
    };
    assert_eq!(function, "login-fn");
    ApiGatewayProxyRequest::deserialize(event).unwrap();

    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    // AWS sends `isBase64Encoded` and `extendedRequestId`, which the fixture leaves out.
    let mut top = keys(&fixture);
    top.insert("isBase64Encoded".into());
    assert_eq!(keys(event), top);
    let mut context = keys(&fixture["requestContext"]);
    context.insert("extendedRequestId".into());
    assert_eq!(keys(&event["requestContext"]), context);
    assert_eq!(
        keys(&event["requestContext"]["identity"]),
        keys(&fixture["requestContext"]["identity"])
    );
    assert_eq!(
        keys(&event["requestContext"]["authorizer"]),
        BTreeSet::from(["claims".to_owned()])
    );

    let context = &event["requestContext"];
    let expected = json!({
        "resource": "/auth/login",
        "path": "/auth/login",
        "httpMethod": "GET",
        "queryStringParameters": {"x": "2", "y": "a b"},
        "multiValueQueryStringParameters": {"x": ["1", "2"], "y": ["a b"]},
        "pathParameters": null,
        "stageVariables": null,
        "body": null,
        "isBase64Encoded": false,
        "rc": {
            "resourcePath": "/auth/login",
            "httpMethod": "GET",
            "path": "/dev/auth/login",
            "stage": "dev",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "front-test",
            "domainName": running.base.trim_start_matches("http://"),
        },
    });
    let actual = json!({
        "resource": event["resource"],
        "path": event["path"],
        "httpMethod": event["httpMethod"],
        "queryStringParameters": event["queryStringParameters"],
        "multiValueQueryStringParameters": event["multiValueQueryStringParameters"],
        "pathParameters": event["pathParameters"],
        "stageVariables": event["stageVariables"],
        "body": event["body"],
        "isBase64Encoded": event["isBase64Encoded"],
        "rc": {
            "resourcePath": context["resourcePath"],
            "httpMethod": context["httpMethod"],
            "path": context["path"],
            "stage": context["stage"],
            "accountId": context["accountId"],
            "protocol": context["protocol"],
            "sourceIp": context["identity"]["sourceIp"],
            "userAgent": context["identity"]["userAgent"],
            "domainName": context["domainName"],
        },
    });
    assert_eq!(actual, expected);
    assert_eq!(event["headers"]["authorization"], pools.id_token.as_str());
    assert_eq!(
        event["multiValueHeaders"]["user-agent"],
        json!(["front-test"])
    );
    assert_eq!(event["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert!(
        context["resourceId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(context["apiId"].as_str().map(str::len), Some(10));
    let request_id = context["requestId"].as_str().unwrap();
    assert_eq!((request_id.len(), &request_id[14..15]), (36, "4"));
    let time = context["requestTime"].as_str().unwrap();
    let epoch = context["requestTimeEpoch"].as_u64().unwrap();
    let seconds = i64::try_from(epoch / 1000).unwrap();
    assert_eq!(
        time,
        jiff::Timestamp::from_second(seconds)
            .unwrap()
            .strftime("%d/%b/%Y:%H:%M:%S +0000")
            .to_string()
    );

    let claims = context["authorizer"]["claims"].as_object().unwrap();
    let token = payload(&pools.id_token);
    assert_eq!(
        claims.keys().collect::<BTreeSet<_>>(),
        token.as_object().unwrap().keys().collect()
    );
    assert!(claims.values().all(Value::is_string), "{claims:?}");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["aud"], pools.client_id.as_str());
    assert_eq!(
        claims["auth_time"],
        token["auth_time"].as_u64().unwrap().to_string()
    );
    let java = |seconds: &Value| {
        jiff::Timestamp::from_second(seconds.as_i64().unwrap())
            .unwrap()
            .strftime("%a %b %d %H:%M:%S UTC %Y")
            .to_string()
    };
    assert_eq!(claims["exp"], java(&token["exp"]));
    assert_eq!(claims["iat"], java(&token["iat"]));
    assert!(
        claims["exp"].as_str().unwrap().contains(" UTC 20"),
        "{}",
        claims["exp"]
    );

    // The public route gets no authorizer at all, and a body is passed as text.
    let response = http
        .get(format!("{}/dev/auth", running.base))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = fake.seen();
    let (function, event) = &seen[1];
    assert_eq!(function, "auth-fn");
    ApiGatewayProxyRequest::deserialize(event).unwrap();
    assert!(event["requestContext"].get("authorizer").is_none());
    assert_eq!(
        (
            &event["body"],
            &event["isBase64Encoded"],
            &event["queryStringParameters"]
        ),
        (&json!("hello"), &json!(false), &Value::Null)
    );
    // Bytes that are not UTF-8 go as base64.
    http.get(format!("{}/dev/auth", running.base))
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    let event = &fake.seen()[2].1;
    assert_eq!(
        (&event["body"], &event["isBase64Encoded"]),
        (&json!("//4A"), &json!(true))
    );
    running.stop().await;
}

/// Status, `x-amzn-ErrorType`, content type and exact body of one answer.
async fn answer(response: reqwest::Response) -> (u16, String, String, String) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    (
        response.status().as_u16(),
        header("x-amzn-errortype"),
        header("content-type"),
        response.text().await.unwrap(),
    )
}

fn gateway(status: u16, error_type: &str, message: &str) -> (u16, String, String, String) {
    (
        status,
        error_type.to_owned(),
        "application/json".to_owned(),
        format!(r#"{{"message":"{message}"}}"#),
    )
}

#[tokio::test]
async fn gateway_answers_unknown_routes_and_refused_tokens() {
    let pools = pools().await;
    let fake = Fake::answering(ok("never"));
    let running = serve(
        discovered(pools, &[]).await,
        fake.clone(),
        crate::system_clock(),
    )
    .await;
    let http = reqwest::Client::new();
    let base = &running.base;
    let missing = gateway(
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
    for (method, path) in [
        (reqwest::Method::GET, "/dev/nope"),
        (reqwest::Method::GET, "/dev"),
        (reqwest::Method::POST, "/dev/auth"),
        (reqwest::Method::GET, "/dev/auth/login/more"),
    ] {
        let response = http
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer(response).await, missing, "{method} {path}");
    }
    let response = http.get(format!("{base}/prod/auth")).send().await.unwrap();
    assert_eq!(
        answer(response).await,
        gateway(403, "ForbiddenException", "Forbidden")
    );

    let unauthorized = gateway(401, "UnauthorizedException", "Unauthorized");
    let response = http
        .get(format!("{base}/dev/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await, unauthorized);
    for token in [&pools.access_token, &pools.other_id_token] {
        let response = http
            .get(format!("{base}/dev/auth/login"))
            .header("Authorization", token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer(response).await, unauthorized);
    }
    let not_text = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let response = http
        .get(format!("{base}/dev/auth/login"))
        .header("Authorization", not_text)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(response).await,
        unauthorized,
        "a header that is not text"
    );
    assert!(fake.seen().is_empty(), "no function ran");
    running.stop().await;
}

#[tokio::test]
async fn expired_tokens_are_refused_by_the_injected_clock() {
    let pools = pools().await;
    let exp = exp_of(&pools.id_token);
    let running = serve(
        discovered(pools, &[]).await,
        Fake::answering(ok("never")),
        Arc::new(move || exp),
    )
    .await;
    let response = reqwest::Client::new()
        .get(format!("{}/dev/auth/login", running.base))
        .header("Authorization", format!("Bearer {}", pools.id_token))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(response).await,
        gateway(
            401,
            "UnauthorizedException",
            "The incoming token has expired"
        )
    );
    running.stop().await;
}

#[tokio::test]
async fn function_errors_and_malformed_answers_are_502() {
    let pools = pools().await;
    let fake = Fake::new(Box::new(|function, _| {
        Box::pin(async move {
            match function.as_str() {
                "auth-fn" => Err(InvokeError::Function(ErrorReport {
                    header_type: None,
                    error_type: "Panic".into(),
                    error_message: "boom".into(),
                })),
                _ => Ok(json!({"body": "no status code"})),
            }
        })
    }));
    let running = serve(discovered(pools, &[]).await, fake, crate::system_clock()).await;
    let http = reqwest::Client::new();
    let internal = gateway(502, "InternalServerErrorException", "Internal server error");
    let response = http
        .get(format!("{}/dev/auth", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await, internal);
    let response = http
        .get(format!("{}/dev/auth/login", running.base))
        .header("Authorization", &pools.id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await, internal);
    running.stop().await;
}

#[tokio::test]
async fn functions_past_the_integration_timeout_are_504() {
    let pools = pools().await;
    let mut api = discovered(pools, &[]).await;
    for route in &mut api.routes {
        route.timeout = Duration::from_millis(100);
    }
    let fake = Fake::new(Box::new(|_, _| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(ok("too late"))
        })
    }));
    let running = serve(api, fake, crate::system_clock()).await;
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .get(format!("{}/dev/auth", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(response).await,
        gateway(
            504,
            "InternalServerErrorException",
            "Endpoint request timed out"
        )
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    running.stop().await;
}

#[tokio::test]
async fn the_stage_throttles_each_method_with_its_own_bucket() {
    let pools = pools().await;
    // A clock that stands still: the buckets never refill.
    let now = SystemTime::now();
    let api = discovered(pools, &[("*/*", 1.0, 3), ("~1auth/GET", 1.0, 1)]).await;
    let running = serve(api, Fake::answering(ok("hi")), Arc::new(move || now)).await;
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let request = http.get(format!("{}{path}", running.base));
        let request = if path.ends_with("login") {
            request.header("Authorization", &pools.id_token)
        } else {
            request
        };
        async move { request.send().await.unwrap() }
    };
    assert_eq!(get("/dev/auth").await.status(), 200);
    let throttled = gateway(429, "TooManyRequestsException", "Too Many Requests");
    assert_eq!(answer(get("/dev/auth").await).await, throttled);
    for _ in 0..3 {
        assert_eq!(get("/dev/auth/login").await.status(), 200);
    }
    assert_eq!(answer(get("/dev/auth/login").await).await, throttled);
    running.stop().await;
}

#[tokio::test]
async fn several_set_cookie_headers_stay_separate() {
    let pools = pools().await;
    let fake = Fake::answering(json!({
        "statusCode": 302,
        "headers": {"Location": "/dev/auth/login", "Cache-Control": "no-store"},
        "multiValueHeaders": {"Set-Cookie": ["__Host-a=1; Secure; Path=/", "__Host-b=2; Secure; Path=/"]},
        "body": base64::engine::general_purpose::STANDARD.encode("moved"),
        "isBase64Encoded": true,
    }));
    let running = serve(discovered(pools, &[]).await, fake, crate::system_clock()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/dev/auth", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        cookies,
        ["__Host-a=1; Secure; Path=/", "__Host-b=2; Secure; Path=/"]
    );
    assert_eq!(response.headers()["location"], "/dev/auth/login");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.text().await.unwrap(), "moved");
    running.stop().await;
}

/// The auth function calls `/auth/login` on the same front while its own request is open.
#[tokio::test]
async fn a_function_can_call_the_front_while_its_own_request_is_open() {
    let pools = pools().await;
    let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let token = pools.id_token.clone();
    let fake = {
        let base = Arc::clone(&base);
        Fake::new(Box::new(move |function, _| {
            let base = Arc::clone(&base);
            let token = token.clone();
            Box::pin(async move {
                if function == "login-fn" {
                    return Ok(ok("Hello, ann"));
                }
                let login = reqwest::Client::new()
                    .get(format!("{}/dev/auth/login", base.get().unwrap()))
                    .header("Authorization", token)
                    .send()
                    .await
                    .unwrap();
                let greeting = login.text().await.unwrap();
                Ok(ok(&format!("auth saw: {greeting}")))
            })
        }))
    };
    let running = serve(
        discovered(pools, &[]).await,
        fake.clone(),
        crate::system_clock(),
    )
    .await;
    base.set(running.base.clone()).unwrap();
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::Client::new()
            .get(format!("{}/dev/auth", running.base))
            .send(),
    )
    .await
    .expect("the nested request does not wait for the outer one")
    .unwrap();
    assert_eq!(response.text().await.unwrap(), "auth saw: Hello, ann");
    let functions: Vec<_> = fake.seen().into_iter().map(|(name, _)| name).collect();
    assert_eq!(functions, ["auth-fn", "login-fn"]);
    running.stop().await;
}
