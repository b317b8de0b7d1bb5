//! A person in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) over WebDriver signs up, reads the confirmation code
//! from the local outbox, confirms, signs in and reads the greeting served by
//! `cargo xtask local`. A screenshot of the greeting is kept under
//! `target/screenshots/` for review.
//!
//! With `CI=true` the browser is required; elsewhere a missing browser skips
//! the test loudly, naming the packages to install.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::local_mode::LocalMode;
use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fill_and_submit(browser: &fantoccini::Client, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        let input = browser
            .find(Locator::Css(&format!("input[name={name}]")))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The page's `<h1>` once it satisfies `wanted`. A click navigates while the
/// old page is still there, so a heading read too early is the old one or
/// goes stale under our hands: read again until the new page shows.
async fn heading(browser: &fantoccini::Client, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(h1) = browser.find(Locator::Css("h1")).await
            && let Ok(text) = h1.text().await
        {
            if wanted(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page's heading stayed {last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_up_and_in_with_a_real_browser() {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs the browser: apt-get install chromium chromium-driver"
        );
        eprintln!(
            "\n*** SKIPPED the browser test: {CHROMIUM} or {CHROMEDRIVER} is missing. \
             Install them with `apt-get install chromium chromium-driver` to run it. ***\n"
        );
        return;
    }
    let local = LocalMode::start("local-browser");
    let driver = Driver::start();
    let mut args = vec!["--headless=new", "--disable-gpu", "--window-size=1000,800"];
    // Chromium's sandbox cannot start as root (crbug 638180), which CI is.
    if std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"))
    {
        args.push("--no-sandbox");
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap();

    let email = "Chris@example.com";
    let password = "Browser-Test-2026-ok";
    browser.goto(local.output("SignInUrl")).await.unwrap();
    heading(&browser, |h| h == "Sign in").await;
    browser
        .find(Locator::Css("a[href*='/signup']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    heading(&browser, |h| h == "Sign up").await;
    fill_and_submit(&browser, &[("email", email), ("password", password)]).await;
    heading(&browser, |h| h == "Confirm your account").await;

    let mail: Vec<Value> = reqwest::Client::new()
        .get(local.output("MailUrl"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = mail
        .iter()
        .rev()
        .find_map(|m| m["code"].as_str())
        .expect("a confirmation mail")
        .to_owned();
    fill_and_submit(&browser, &[("code", &code)]).await;
    heading(&browser, |h| h == "Sign in").await;
    fill_and_submit(&browser, &[("email", email), ("password", password)]).await;

    let greeting = heading(&browser, |h| {
        ["Hello", "Shalom", "Hi", "Marhaba"]
            .iter()
            .any(|g| h.starts_with(g))
    })
    .await;
    let page = browser.source().await.unwrap();
    let screenshot = browser.screenshot().await.unwrap();
    let dir = testkit::target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greeting.png"), screenshot).unwrap();
    assert!(
        ["Hello", "Shalom", "Hi", "Marhaba"]
            .iter()
            .any(|g| greeting.contains(g)),
        "{greeting}\n{page}"
    );
    assert!(
        page.contains("chris@example.com") || page.contains(email),
        "{page}"
    );
    browser.close().await.unwrap();
}
