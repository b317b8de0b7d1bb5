//! The login handler against moto: what a sign-in really writes to DynamoDB
//! and S3, and where its greeting comes from.

use crate::common;

use common::{GREETINGS, Stack, event_for, fixture, invoke, with_claim};

fn is_rfc3339_utc_millis(text: &str) -> bool {
    text.len() == "2026-11-25T18:20:00.123Z".len()
        && text.ends_with('Z')
        && text.as_bytes()[19] == b'.'
        && text.parse::<jiff::Timestamp>().is_ok()
}

#[tokio::test]
async fn a_login_writes_the_item_and_the_object_and_greets_from_the_path() {
    let stack = Stack::create("written").await;
    let app = stack.app();

    let (status, body) = invoke(&app, fixture("login.json")).await;

    assert_eq!(status, 200, "{body}");
    let timestamp = body["timestamp"].as_str().unwrap().to_owned();
    assert!(is_rfc3339_utc_millis(&timestamp), "{timestamp}");
    assert_eq!(body["username"], "ann@example.com");
    let message = body["message"].as_str().unwrap();
    let greeting = message.strip_suffix(" ann@example.com").unwrap();
    assert!(GREETINGS.iter().any(|(_, g)| *g == greeting), "{message}");

    assert_eq!(
        stack.items().await,
        vec![("ann@example.com".to_owned(), timestamp.clone())]
    );
    let (object_body, content_type) = stack.object("ann@example.com").await.unwrap();
    assert_eq!(object_body, timestamp);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
}

#[tokio::test]
async fn every_login_is_kept_and_the_object_holds_the_latest() {
    let stack = Stack::create("kept").await;
    let app = stack.app();

    let (_, first) = invoke(&app, fixture("login.json")).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, second) = invoke(&app, fixture("login.json")).await;

    let stamps: Vec<_> = stack.items().await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        stamps,
        vec![
            first["timestamp"].as_str().unwrap(),
            second["timestamp"].as_str().unwrap()
        ]
    );
    let (latest, _) = stack.object("ann@example.com").await.unwrap();
    assert_eq!(latest, second["timestamp"]);
}

#[tokio::test]
async fn same_local_part_at_two_domains_gives_two_objects() {
    let stack = Stack::create("domains").await;
    let app = stack.app();

    invoke(&app, event_for("ann@a.example")).await;
    invoke(&app, event_for("ann@b.example")).await;

    let mut keys = stack.keys().await;
    keys.sort();
    assert_eq!(keys, ["ann@a.example", "ann@b.example"]);
}

#[tokio::test]
async fn a_unicode_email_is_stored_under_its_exact_name() {
    let stack = Stack::create("unicode").await;
    let app = stack.app();
    let email = "zoë.ñandú+λ@bücher.example";

    let (status, body) = invoke(&app, event_for(email)).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], email);
    assert_eq!(stack.keys().await, [email]);
    assert_eq!(stack.items().await[0].0, email);
}

#[tokio::test]
async fn a_name_too_long_for_s3_is_a_400_and_nothing_is_written() {
    let stack = Stack::create("toolong").await;
    let app = stack.app();
    let email = format!("{}@example.com", "a".repeat(1100));

    let (status, body) = invoke(&app, event_for(&email)).await;

    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1024 bytes"));
    assert!(stack.items().await.is_empty());
    assert!(stack.keys().await.is_empty());
}

#[tokio::test]
async fn a_long_name_that_fits_is_stored() {
    let stack = Stack::create("longfits").await;
    let app = stack.app();
    let email = format!("{}@example.com", "b".repeat(1000));

    let (status, body) = invoke(&app, event_for(&email)).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(stack.keys().await, [email]);
}

#[tokio::test]
async fn greetings_come_only_from_the_stacks_own_path() {
    let stack = Stack::create("pathonly").await;
    let app = stack.app();

    let mut greetings = login::fetch_greetings(&app).await.unwrap();
    greetings.sort();

    let mut expected: Vec<_> = GREETINGS.iter().map(|(_, g)| g.to_string()).collect();
    expected.sort();
    assert_eq!(greetings, expected);
}

#[tokio::test]
async fn the_name_falls_back_to_the_cognito_username() {
    let stack = Stack::create("fallback").await;
    let app = stack.app();

    let (status, body) = invoke(&app, fixture("login_username_only.json")).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "8f1c2d3e-0000-4000-8000-000000000001");
}

#[tokio::test]
async fn an_aws_failure_is_a_500_naming_the_request_id() {
    let stack = Stack::create("failing").await;
    let mut config = stack.config.clone();
    config.table_name = "no-such-table".to_owned();
    let app = login::App::new(config, &stack.sdk);

    let (status, body) = invoke(&app, fixture("login.json")).await;

    assert_eq!(status, 500, "{body}");
    assert_eq!(body["requestId"], "req-0001");
    assert!(
        !body.to_string().contains("no-such-table"),
        "causes stay in the logs: {body}"
    );
}

#[tokio::test]
async fn an_unverified_email_is_403_and_nothing_is_written() {
    let stack = Stack::create("unverified").await;
    let app = stack.app();

    for verified in [Some("false"), Some("False"), Some(""), Some("yes"), None] {
        let event = with_claim(fixture("login.json"), "email_verified", verified);
        let (status, body) = invoke(&app, event).await;

        assert_eq!(status, 403, "{verified:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("not verified"),
            "{body}"
        );
    }
    assert!(stack.items().await.is_empty());
    assert!(stack.keys().await.is_empty());
}

#[tokio::test]
async fn names_with_invisible_formatting_characters_are_400_and_nothing_is_written() {
    let stack = Stack::create("bidi").await;
    let app = stack.app();

    for email in [
        // Shown as "ann@example.com" with the override, stored reversed.
        "\u{202E}moc.elpmaxe@nna",
        "ann@exa\u{2066}mple\u{2069}.com",
        "ann\u{200B}@example.com",
        "\u{FEFF}ann@example.com",
        "ann@example.com\u{E0041}",
    ] {
        let (status, body) = invoke(&app, event_for(email)).await;

        assert_eq!(status, 400, "{email:?}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("invisible formatting characters"),
            "{body}"
        );
    }
    assert!(stack.items().await.is_empty());
    assert!(stack.keys().await.is_empty());
}
