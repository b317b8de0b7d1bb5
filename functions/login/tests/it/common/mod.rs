//! Helpers the login tests share: moto, the resources the stack would
//! create there, and the API Gateway fixtures under `tests/data/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed setup should stop the test loudly"
)]

use std::sync::OnceLock;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_ssm::types::ParameterType;
use serde_json::Value;

/// One moto per test binary: it starts in about a second, and every test
/// uses its own table, bucket and parameter path.
pub(crate) fn moto() -> &'static testkit::Moto {
    static MOTO: OnceLock<testkit::Moto> = OnceLock::new();
    MOTO.get_or_init(|| testkit::Moto::start().expect("moto starts"))
}

/// SDK configuration pointed at `endpoint` with dummy credentials, built
/// explicitly: tests must not mutate the process environment.
pub(crate) async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// The greetings the stack ships, and values parked next to the path that
/// must never be picked.
pub(crate) const GREETINGS: [(&str, &str); 4] = [
    ("hello", "Hello"),
    ("shalom", "Shalom"),
    ("hi", "Hi"),
    ("marhaba", "Marhaba"),
];

/// A stack's resources in moto, named after `stack`.
pub(crate) struct Stack {
    pub(crate) config: login::Config,
    pub(crate) sdk: aws_config::SdkConfig,
}

impl Stack {
    /// Creates the table, the bucket and the parameters (the stack's own
    /// greetings plus decoys outside its path).
    pub(crate) async fn create(stack: &str) -> Self {
        let sdk = sdk_config(moto().endpoint()).await;
        let config = login::Config {
            table_name: format!("{stack}-logins"),
            bucket_name: format!("{stack}-logins"),
            greetings_path: format!("/{stack}/greetings/"),
        };
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap()
        };
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .unwrap()
        };
        dynamodb
            .create_table()
            .table_name(&config.table_name)
            .attribute_definitions(attribute("username"))
            .attribute_definitions(attribute("timestamp"))
            .key_schema(key("username", KeyType::Hash))
            .key_schema(key("timestamp", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        s3(&sdk)
            .create_bucket()
            .bucket(&config.bucket_name)
            .send()
            .await
            .unwrap();
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        let decoys = [
            (format!("/{stack}/other/greeting"), "Outside"),
            (format!("/{stack}/greetings-old/hello"), "Sibling"),
            (format!("/{stack}-2/greetings/hello"), "OtherStack"),
        ];
        let ours = GREETINGS.map(|(name, value)| (format!("/{stack}/greetings/{name}"), value));
        for (name, value) in ours.iter().chain(decoys.iter()) {
            ssm.put_parameter()
                .name(name)
                .value(*value)
                .r#type(ParameterType::String)
                .send()
                .await
                .unwrap();
        }
        Self { config, sdk }
    }

    pub(crate) fn app(&self) -> login::App {
        login::App::new(self.config.clone(), &self.sdk)
    }

    /// Every `(username, timestamp)` in the table.
    pub(crate) async fn items(&self) -> Vec<(String, String)> {
        let scan = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.config.table_name)
            .send()
            .await
            .unwrap();
        let text =
            |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
             name: &str| { item[name].as_s().unwrap().clone() };
        let mut items: Vec<_> = scan
            .items()
            .iter()
            .map(|item| (text(item, "username"), text(item, "timestamp")))
            .collect();
        items.sort();
        items
    }

    /// The object's body and content type, if it exists.
    pub(crate) async fn object(&self, key: &str) -> Option<(String, String)> {
        let object = s3(&self.sdk)
            .get_object()
            .bucket(&self.config.bucket_name)
            .key(key)
            .send()
            .await
            .ok()?;
        let content_type = object.content_type().unwrap_or_default().to_owned();
        let body = object.body.collect().await.unwrap().into_bytes();
        Some((String::from_utf8(body.to_vec()).unwrap(), content_type))
    }

    /// Every key in the bucket.
    pub(crate) async fn keys(&self) -> Vec<String> {
        let listed = s3(&self.sdk)
            .list_objects_v2()
            .bucket(&self.config.bucket_name)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }
}

fn s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

/// A fixture from `tests/data/`.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The sign-in fixture with `claim` set to `value` (`None`: removed).
pub(crate) fn with_claim(mut event: Value, claim: &str, value: Option<&str>) -> Value {
    let claims = event["requestContext"]["authorizer"]["claims"]
        .as_object_mut()
        .unwrap();
    match value {
        Some(value) => claims.insert(claim.to_owned(), Value::String(value.to_owned())),
        None => claims.remove(claim),
    };
    event
}

/// The sign-in fixture with another `email` claim.
pub(crate) fn event_for(email: &str) -> Value {
    let mut event = fixture("login.json");
    event["requestContext"]["authorizer"]["claims"]["email"] = Value::String(email.to_owned());
    event
}

/// Calls the handler as the runtime would, with a known request id, and
/// checks the headers every JSON answer carries.
pub(crate) async fn invoke(app: &login::App, payload: Value) -> (u16, Value) {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "req-0001".to_owned();
    let response = login::handle(app, lambda_runtime::LambdaEvent::new(payload, context))
        .await
        .unwrap();
    let header = |name: &str| {
        let values: Vec<_> = response.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        values[0].to_str().unwrap().to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let body = match response.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => {
            serde_json::from_str(&text).unwrap()
        }
        other => panic!("expected a text body, got {other:?}"),
    };
    (u16::try_from(response.status_code).unwrap(), body)
}
