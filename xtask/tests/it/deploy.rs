//! End to end: the real `cargo xtask deploy`, `diff`, `outputs` and `destroy`
//! against moto (each test starts its own), then reading back what moto holds.

use crate::common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use aws_sdk_s3::primitives::ByteStream;
use common::{
    Build, Moto, event_count, fake_build, resources, sdk_config, stack, template_resources, xtask,
};
use sha2::Digest;
use std::time::Duration;
use testkit::runtime_api::RuntimeApi;

/// The real build, the real stack: deploy, check every resource, the
/// outputs and the artifacts; deploy again unchanged; destroy a full bucket.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_the_real_stack_then_nothing_then_destroy_everything() {
    let moto = Moto::start().unwrap();
    let run = xtask(&moto, &Build::Real, &["deploy", "--yes"]);
    assert!(run.ok, "deploy failed:\n{}", run.stderr);

    let deployed = Deployed::read(&moto).await;
    deployed.printed_its_outputs(&run.stdout);
    let roles = deployed.made_its_log_groups_roles_and_api().await;
    deployed.holds_the_data_the_functions_need().await;
    deployed.keeps_each_zip_under_its_hash().await;
    deployed
        .records_a_login_through_the_real_login_binary()
        .await;
    deployed
        .completes_a_sign_in_through_the_real_auth_binary()
        .await;
    deployed.is_up_to_date_when_deployed_again().await;
    deployed.destroy_leaves_nothing(&roles).await;
}

/// The stack the real `deploy` made in a test's moto, with clients to read
/// it back.
struct Deployed<'m> {
    moto: &'m Moto,
    config: aws_config::SdkConfig,
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    lambda: aws_sdk_lambda::Client,
    /// Logical id to (type, status, physical id).
    created: std::collections::BTreeMap<String, (String, String, String)>,
    stack: aws_sdk_cloudformation::types::Stack,
}

impl<'m> Deployed<'m> {
    /// Reads the stack back, and checks that every resource of the template
    /// exists and is complete.
    async fn read(moto: &'m Moto) -> Self {
        let config = sdk_config(moto).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let created = resources(&cfn, "sign-in").await;
        for id in template_resources("sign-in") {
            let (_, status, _) = created
                .get(&id)
                .unwrap_or_else(|| panic!("{id} was not created"));
            assert_eq!(status, "CREATE_COMPLETE", "{id}");
        }
        let stack = stack(&cfn, "sign-in").await.unwrap();
        Self {
            moto,
            lambda: aws_sdk_lambda::Client::new(&config),
            config,
            cfn,
            s3,
            created,
            stack,
        }
    }

    fn physical(&self, id: &str) -> String {
        self.created[id].2.clone()
    }

    fn output(&self, key: &str) -> String {
        self.stack
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .unwrap_or_else(|| panic!("no output {key}"))
            .to_owned()
    }

    fn parameter(&self, key: &str) -> String {
        self.stack
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(key))
            .and_then(|p| p.parameter_value())
            .unwrap_or_else(|| panic!("no parameter {key}"))
            .to_owned()
    }

    fn of_type(&self, kind: &str) -> Vec<String> {
        self.created
            .values()
            .filter(|r| r.0 == kind)
            .map(|r| r.2.clone())
            .collect()
    }

    async fn client_secret(&self) -> String {
        aws_sdk_cognitoidentityprovider::Client::new(&self.config)
            .describe_user_pool_client()
            .user_pool_id(self.output(infra::stack::outputs::USER_POOL_ID))
            .client_id(self.output(infra::stack::outputs::CLIENT_ID))
            .send()
            .await
            .unwrap()
            .user_pool_client()
            .and_then(|c| c.client_secret())
            .expect("the app client has a secret")
            .to_owned()
    }

    /// The outputs, sign-in URL first, and they agree with the resources.
    fn printed_its_outputs(&self, stdout: &str) {
        let first = stdout.lines().next().unwrap_or_default();
        assert!(first.starts_with("SignInUrl = https://"), "{stdout}");
        for key in infra::stack::outputs::ALL {
            assert!(
                stdout.contains(&format!("{key} = ")),
                "output {key} missing:\n{stdout}"
            );
        }
        assert!(stdout.contains(&format!("TableName = {}", self.physical("LoginTable"))));
        assert!(stdout.contains(&format!("BucketName = {}", self.physical("LoginBucket"))));
    }

    /// The log groups, roles and REST API the stack made: read back by type,
    /// so the checks after destroy cannot pass on names that never existed.
    /// Returns the roles' names.
    async fn made_its_log_groups_roles_and_api(&self) -> Vec<String> {
        let log_groups = self.of_type("AWS::Logs::LogGroup");
        let roles = self.of_type("AWS::IAM::Role");
        let rest_apis = self.of_type("AWS::ApiGateway::RestApi");
        assert!(log_groups.len() >= 2, "{:?}", self.created);
        assert!(roles.len() >= 2, "{:?}", self.created);
        assert_eq!(rest_apis.len(), 1, "{:?}", self.created);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&self.config);
        let present = common::log_group_names(&logs).await;
        for group in &log_groups {
            assert!(present.contains(group), "{group} not in {present:?}");
        }
        let iam = aws_sdk_iam::Client::new(&self.config);
        for role in &roles {
            iam.get_role().role_name(role).send().await.unwrap();
        }
        aws_sdk_apigateway::Client::new(&self.config)
            .get_rest_api()
            .rest_api_id(&rest_apis[0])
            .send()
            .await
            .unwrap();
        roles
    }

    /// The table, the bucket, the greetings and the app client's secret.
    async fn holds_the_data_the_functions_need(&self) {
        aws_sdk_dynamodb::Client::new(&self.config)
            .describe_table()
            .table_name(self.physical("LoginTable"))
            .send()
            .await
            .unwrap();
        self.s3
            .head_bucket()
            .bucket(self.physical("LoginBucket"))
            .send()
            .await
            .unwrap();
        let greetings = aws_sdk_ssm::Client::new(&self.config)
            .get_parameters_by_path()
            .path("/sign-in/greetings/")
            .send()
            .await
            .unwrap();
        assert_eq!(greetings.parameters().len(), infra::stack::GREETINGS.len());
        self.client_secret().await;
    }

    /// Each function's zip under its own SHA-256, the same key the deployed
    /// functions point at.
    async fn keeps_each_zip_under_its_hash(&self) {
        let artifacts = resources(&self.cfn, "sign-in-artifacts").await;
        let artifacts_bucket = &artifacts
            .values()
            .find(|r| r.0 == "AWS::S3::Bucket")
            .unwrap()
            .2;
        for (function, key_param) in [
            ("AuthFunction", infra::stack::params::AUTH_CODE_KEY),
            ("LoginFunction", infra::stack::params::LOGIN_CODE_KEY),
        ] {
            let key = self.parameter(key_param);
            let zip = self
                .s3
                .get_object()
                .bucket(artifacts_bucket)
                .key(&key)
                .send()
                .await
                .unwrap();
            let bytes = zip.body.collect().await.unwrap().into_bytes();
            assert_eq!(
                hex::encode(sha2::Sha256::digest(&bytes)),
                key,
                "{function}'s zip is not under its hash"
            );
            let config = self
                .lambda
                .get_function_configuration()
                .function_name(self.physical(function))
                .send()
                .await
                .unwrap();
            assert_eq!(config.handler(), Some("bootstrap"));
            assert_eq!(
                config.runtime().map(|r| r.as_str()),
                Some("provided.al2023")
            );
        }
    }

    /// The real login binary (the one just packaged), with the environment
    /// the deployed function has, against the deployed table, bucket and
    /// greetings.
    async fn records_a_login_through_the_real_login_binary(&self) {
        let env = deployed_env(&self.lambda, &self.physical("LoginFunction")).await;
        assert!(
            !env.is_empty(),
            "the deployed login function has no environment"
        );
        let response = invoke_release_event(
            self.moto,
            "login",
            fixture("functions/login/tests/data/login.json"),
            env,
        )
        .await;
        assert_eq!(response["statusCode"], 200, "{response}");
        let logins = aws_sdk_dynamodb::Client::new(&self.config)
            .scan()
            .table_name(self.physical("LoginTable"))
            .send()
            .await
            .unwrap();
        assert_eq!(logins.count(), 1, "the login is not in the table");
        let objects = self
            .s3
            .list_objects_v2()
            .bucket(self.physical("LoginBucket"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            objects.key_count(),
            Some(1),
            "the login is not in the bucket"
        );
    }

    /// The real auth binary with the deployed function's environment: its
    /// client id and pool id must find the deployed client's secret in
    /// Cognito, and the token request must carry exactly that pair. The
    /// token and revocation endpoints and the protected route are stood in
    /// locally (no emulator has them). The sign-in starts in one process and
    /// completes in another, with only the browser's cookie in between.
    async fn completes_a_sign_in_through_the_real_auth_binary(&self) {
        let mut env = deployed_env(&self.lambda, &self.physical("AuthFunction")).await;
        assert!(
            env[env_contract::auth::AUTHORIZE_URL].starts_with("https://")
                && env[env_contract::auth::AUTHORIZE_URL].ends_with("/oauth2/authorize"),
            "{env:?}"
        );
        assert_eq!(
            env[env_contract::auth::SIGN_IN_URL],
            self.output(infra::stack::outputs::SIGN_IN_URL)
        );
        assert_eq!(
            env.get(env_contract::auth::CLIENT_ID),
            Some(&self.output(infra::stack::outputs::CLIENT_ID))
        );
        let secret = self.client_secret().await;
        let stand_in = wiremock::MockServer::start().await;
        for (variable, path) in [
            (env_contract::auth::TOKEN_URL, "/oauth2/token"),
            (env_contract::auth::REVOKE_URL, "/oauth2/revoke"),
            (env_contract::auth::LOGIN_URL, "/dev/auth/login"),
        ] {
            env.insert(variable.to_owned(), format!("{}{path}", stand_in.uri()));
        }
        let start = invoke_release_event(
            self.moto,
            "auth",
            fixture("functions/auth/tests/data/auth_no_query.json"),
            env.clone(),
        )
        .await;
        assert_eq!(start["statusCode"], 302, "{start}");
        let location = start["headers"]["location"].as_str().unwrap();
        assert!(
            location.starts_with(&format!("{}?", env[env_contract::auth::AUTHORIZE_URL])),
            "{location}"
        );
        let param = |name: &str| {
            location
                .split(['?', '&'])
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {location}"))
                .to_owned()
        };
        let (state, nonce) = (param("state"), param("nonce"));
        let cookie = start["headers"]["set-cookie"]
            .as_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let id_token = format!(
            "eyJraWQiOiJrMSJ9.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(format!(
                r#"{{"email":"ann@example.com","nonce":"{nonce}"}}"#
            ))
        );
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{secret}", env[env_contract::auth::CLIENT_ID]))
        );
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/oauth2/token"))
            .and(wiremock::matchers::header("authorization", basic.as_str()))
            .and(wiremock::matchers::body_string_contains("code_verifier="))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "access_token": "eyJhY2Nlc3MiOnRydWV9.e30.c2ln",
                    "id_token": id_token,
                    "refresh_token": "eyJjdHkiOiJKV1QifQ.refresh.token",
                    "token_type": "Bearer",
                    "expires_in": 300
                })),
            )
            .mount(&stand_in)
            .await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/oauth2/revoke"))
            .and(wiremock::matchers::header("authorization", basic.as_str()))
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&stand_in)
            .await;
        let answer =
            serde_json::json!({"message": "Hello ann@example.com", "username": "ann@example.com"});
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .and(wiremock::matchers::path("/dev/auth/login"))
            .and(wiremock::matchers::header(
                "authorization",
                id_token.as_str(),
            ))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(answer.clone()))
            .mount(&stand_in)
            .await;
        let mut callback = fixture("functions/auth/tests/data/auth.json");
        callback["queryStringParameters"]["state"] = serde_json::json!(state);
        callback["multiValueQueryStringParameters"]["state"] = serde_json::json!([state]);
        callback["headers"]["Cookie"] = serde_json::json!(cookie);
        callback["multiValueHeaders"]["Cookie"] = serde_json::json!([cookie]);
        let response = invoke_release_event(self.moto, "auth", callback, env).await;
        assert_eq!(response["statusCode"], 200, "{response}");
        let paths: Vec<_> = stand_in
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        assert_eq!(
            paths,
            ["/oauth2/token", "/dev/auth/login", "/oauth2/revoke"]
        );
    }

    /// Unchanged: "up to date", no upload, no stack operation.
    async fn is_up_to_date_when_deployed_again(&self) {
        let events = event_count(&self.cfn, "sign-in").await;
        let run = xtask(self.moto, &Build::Real, &["deploy", "--yes"]);
        assert!(run.ok, "{}", run.stderr);
        assert!(run.stderr.contains("is up to date"), "{}", run.stderr);
        assert!(!run.stderr.contains("uploaded"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("updating the artifacts stack"),
            "{}",
            run.stderr
        );
        assert_eq!(
            event_count(&self.cfn, "sign-in").await,
            events,
            "an unchanged deploy touched the stack"
        );
    }

    /// Destroy with objects, versions and delete markers in the data bucket
    /// leaves nothing of ours, and a second destroy finds nothing to do.
    async fn destroy_leaves_nothing(&self, roles: &[String]) {
        let bucket = self.physical("LoginBucket");
        for body in ["one", "two", "three"] {
            self.put(&bucket, "ann@example.com", body).await;
        }
        self.s3
            .delete_object()
            .bucket(&bucket)
            .key("ann@example.com")
            .send()
            .await
            .unwrap();
        self.put(&bucket, "bob@example.com", "x").await;
        let run = xtask(self.moto, &Build::Real, &["destroy", "--yes"]);
        assert!(run.ok, "destroy failed:\n{}", run.stderr);

        assert!(stack(&self.cfn, "sign-in").await.is_none());
        assert!(stack(&self.cfn, "sign-in-artifacts").await.is_none());
        let buckets = self.s3.list_buckets().send().await.unwrap();
        assert!(
            buckets.buckets().is_empty(),
            "buckets left: {:?}",
            buckets.buckets()
        );
        let config = &self.config;
        let tables = aws_sdk_dynamodb::Client::new(config)
            .list_tables()
            .send()
            .await
            .unwrap();
        assert!(tables.table_names().is_empty(), "{tables:?}");
        let parameters = aws_sdk_ssm::Client::new(config)
            .get_parameters_by_path()
            .path("/sign-in/")
            .recursive(true)
            .send()
            .await
            .unwrap();
        assert!(parameters.parameters().is_empty(), "{parameters:?}");
        let functions = self.lambda.list_functions().send().await.unwrap();
        assert!(functions.functions().is_empty(), "{functions:?}");
        let pools = aws_sdk_cognitoidentityprovider::Client::new(config)
            .list_user_pools()
            .max_results(10)
            .send()
            .await
            .unwrap();
        assert!(pools.user_pools().is_empty(), "{pools:?}");

        // Nor the log groups (the functions log to the stack's own, so
        // deleting the stack removes them), the roles, or the REST API.
        let logs = aws_sdk_cloudwatchlogs::Client::new(config);
        assert_eq!(common::log_group_names(&logs).await, Vec::<String>::new());
        let iam = aws_sdk_iam::Client::new(config);
        for role in roles {
            let err = iam.get_role().role_name(role).send().await.unwrap_err();
            assert!(
                err.as_service_error().is_some_and(
                    aws_sdk_iam::operation::get_role::GetRoleError::is_no_such_entity_exception
                ),
                "role {role} is left: {err:?}"
            );
        }
        let roles_left = iam.list_roles().send().await.unwrap();
        assert!(
            roles_left.roles().is_empty(),
            "roles left: {:?}",
            roles_left.roles()
        );
        let apis_left = aws_sdk_apigateway::Client::new(config)
            .get_rest_apis()
            .send()
            .await
            .unwrap();
        assert!(
            apis_left.items().is_empty(),
            "REST APIs left: {:?}",
            apis_left.items()
        );

        let run = xtask(self.moto, &Build::Real, &["destroy", "--yes"]);
        assert!(run.ok, "{}", run.stderr);
        assert!(run.stderr.contains("nothing to destroy"), "{}", run.stderr);
    }

    async fn put(&self, bucket: &str, key: &str, body: &str) {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
}

/// Review: no terminal and no --yes stops; a changed function changes only
/// that function; diff changes nothing; a domain prefix change is refused.
#[tokio::test(flavor = "multi_thread")]
async fn review_shows_exactly_what_changes() {
    let moto = Moto::start().unwrap();
    let review = Review {
        config: sdk_config(&moto).await,
        moto: &moto,
        build: fake_build("review"),
        name: "e2e-review",
    };
    review
        .a_diff_of_a_new_stack_adds_everything_and_leaves_nothing()
        .await;
    review.the_first_deploy_needs_yes_without_a_terminal().await;
    review
        .an_artifacts_stack_from_another_template_is_updated_once()
        .await;
    review.an_up_to_date_deploy_writes_the_outputs_file();
    review.an_up_to_date_diff_says_so_and_passes();
    logs_of_the_deployed_stack(&moto, &review.build, &review.config, review.name).await;
    review.a_changed_function_is_the_only_change().await;
    review.a_new_domain_prefix_is_refused_by_cognito();

    let run = xtask(
        &moto,
        &review.build,
        &["deploy", "--stack-name", "not_valid", "--yes"],
    );
    assert!(!run.ok);
    assert!(run.stderr.contains("--stack-name"), "{}", run.stderr);
}

/// One stack under review, deployed with a stand-in build.
struct Review<'m> {
    moto: &'m Moto,
    config: aws_config::SdkConfig,
    build: Build,
    name: &'static str,
}

impl Review<'_> {
    /// `cargo xtask ARGS --stack-name NAME`.
    fn xtask(&self, args: &[&str]) -> common::Run {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--stack-name", self.name])
            .collect();
        xtask(self.moto, &self.build, &args)
    }

    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    /// Every resource to add, and nothing left behind (not even the empty
    /// stack a CREATE change set makes). With --fail, a diff that finds
    /// changes exits with 1 (not 2, an error).
    async fn a_diff_of_a_new_stack_adds_everything_and_leaves_nothing(&self) {
        let run = self.xtask(&["diff", "--fail"]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(run.stderr.contains("+ Add     UserPool "), "{}", run.stderr);
        assert!(
            stack(&self.cfn(), self.name).await.is_none(),
            "diff left a stack behind"
        );
    }

    /// The first deploy adds IAM roles: without a terminal it must not hang
    /// or go ahead; with --yes it does.
    async fn the_first_deploy_needs_yes_without_a_terminal(&self) {
        let run = self.xtask(&["deploy"]);
        assert!(!run.ok);
        assert!(run.stderr.contains("--yes"), "{}", run.stderr);
        assert!(
            stack(&self.cfn(), self.name).await.is_none(),
            "a refused create left a stack behind"
        );
        let run = self.xtask(&["deploy", "--yes"]);
        assert!(run.ok, "{}", run.stderr);
    }

    /// An artifacts stack made from another template (an older xtask, whose
    /// zips expired after 90 days) is updated once, through a change set.
    async fn an_artifacts_stack_from_another_template_is_updated_once(&self) {
        let mut older: serde_json::Value =
            serde_json::from_str(&infra::artifacts_stack().to_json().unwrap()).unwrap();
        older["Resources"]["ArtifactsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]
            ["ExpirationInDays"] = 90.into();
        let tag = |key: &str, value: &str| {
            aws_sdk_cloudformation::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
        };
        self.cfn()
            .update_stack()
            .stack_name(format!("{}-artifacts", self.name))
            .template_body(older.to_string())
            .tags(tag("xtask:template-sha256", "an-older-template"))
            .tags(tag("xtask:sign-in-stack", self.name))
            .send()
            .await
            .unwrap();
        let run = self.xtask(&["deploy", "--yes"]);
        assert!(run.ok, "{}", run.stderr);
        assert!(
            run.stderr.contains("updating the artifacts stack"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("~ Modify  ArtifactsBucket"),
            "{}",
            run.stderr
        );
    }

    /// An up-to-date deploy writes the outputs file too (aws-cdk-cli #1389),
    /// the same object `outputs --format json` prints, and the env lines,
    /// sourced by a shell, give the same values; a folder that does not
    /// exist is refused before anything else.
    fn an_up_to_date_deploy_writes_the_outputs_file(&self) {
        let run = self.xtask(&["deploy", "--yes", "--outputs-file", "/nonexistent/o.json"]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("--outputs-file"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("AWS account"),
            "refused before any call:\n{}",
            run.stderr
        );

        let scratch = common::scratch("outputs");
        let file = scratch.join("outputs.json");
        let run = self.xtask(&["deploy", "--yes", "--outputs-file", file.to_str().unwrap()]);
        assert!(run.ok, "{}", run.stderr);
        assert!(run.stderr.contains("is up to date"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("updating the artifacts stack"),
            "{}",
            run.stderr
        );
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let run = self.xtask(&["outputs", "--format", "json"]);
        assert!(run.ok, "{}", run.stderr);
        let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(written, printed);
        assert_eq!(printed["stack"], self.name);
        assert_eq!(printed["region"], "us-east-1");
        let keys: Vec<&str> = printed["outputs"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            infra::stack::outputs::ALL,
            "every output, in the one order"
        );

        let run = self.xtask(&["outputs", "--format", "env"]);
        assert!(run.ok, "{}", run.stderr);
        let env_file = scratch.join("outputs.env");
        std::fs::write(&env_file, &run.stdout).unwrap();
        let sourced = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                ". {}; printf '%s\\n' \"$SIGNIN_SIGN_IN_URL\" \"$SIGNIN_USER_POOL_ID\" \"$SIGNIN_BUCKET_NAME\"",
                env_file.display()
            ))
            .output()
            .unwrap();
        assert!(sourced.status.success());
        assert_eq!(
            String::from_utf8(sourced.stdout).unwrap(),
            format!(
                "{}\n{}\n{}\n",
                printed["outputs"]["SignInUrl"].as_str().unwrap(),
                printed["outputs"]["UserPoolId"].as_str().unwrap(),
                printed["outputs"]["BucketName"].as_str().unwrap()
            )
        );
    }

    /// Up to date: `diff --fail` exits with 0, and says so in Markdown too.
    fn an_up_to_date_diff_says_so_and_passes(&self) {
        let run = self.xtask(&["diff", "--fail", "--format", "markdown"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(
            run.stdout,
            format!(
                "### `{}` is up to date\n\nA deploy would change nothing.\n",
                self.name
            )
        );
    }

    /// A changed function: diff shows it alone (in Markdown for a pull
    /// request, exit 1 with --fail) and touches nothing; the deploy uploads
    /// and updates only that function.
    async fn a_changed_function_is_the_only_change(&self) {
        common::change_function(&self.build, "login");
        let cfn = self.cfn();
        let events = event_count(&cfn, self.name).await;
        let run = self.xtask(&["diff"]);
        assert!(run.ok, "{}", run.stderr);
        assert_eq!(run.modified(), ["LoginFunction"], "{}", run.stderr);
        let run = self.xtask(&["diff", "--fail", "--format", "markdown"]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            run.stdout.starts_with(&format!(
                "### Changes to `{}` (update, 1 resource change)\n\n| | Action | Logical id |",
                self.name
            )),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(
                "| `~` | Modify | `LoginFunction` | `AWS::Lambda::Function` | in place |"
            ),
            "{}",
            run.stdout
        );
        assert_eq!(
            event_count(&cfn, self.name).await,
            events,
            "diff touched the stack"
        );

        let run = self.xtask(&["deploy", "--yes"]);
        assert!(run.ok, "{}", run.stderr);
        assert_eq!(run.modified(), ["LoginFunction"], "{}", run.stderr);
        assert!(run.stderr.contains("uploaded login"), "{}", run.stderr);
        assert!(!run.stderr.contains("uploaded auth"), "{}", run.stderr);
        let deployed = stack(&cfn, self.name).await.unwrap();
        assert_eq!(
            deployed.stack_status().map(|s| s.as_str()),
            Some("UPDATE_COMPLETE")
        );
    }

    /// Cognito keeps one domain per pool: a new prefix fails with its
    /// reason, and the stack it rolled back still gives its outputs.
    fn a_new_domain_prefix_is_refused_by_cognito(&self) {
        let run = self.xtask(&["deploy", "--domain-prefix", "another-prefix", "--yes"]);
        assert!(!run.ok);
        assert!(
            run.stderr
                .contains("User pool already has a domain configured"),
            "{}",
            run.stderr
        );
        let run = self.xtask(&["outputs"]);
        assert!(run.ok, "{}", run.stderr);
        assert!(
            run.stdout.starts_with("SignInUrl = https://"),
            "{}",
            run.stdout
        );
    }
}

/// A create that fails says why and exits non-zero; the next deploy deletes
/// the `ROLLBACK_COMPLETE` stack and creates it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_create_is_reported_and_the_next_deploy_recovers() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let build = fake_build("fail");
    let name = "e2e-fail";

    // A binary that needs a newer glibc than provided.al2023's is refused,
    // naming the symbol, before anything is sent to AWS.
    let too_new = fake_build("glibc");
    common::need_newer_glibc(&too_new, "login");
    let run = xtask(&moto, &too_new, &["deploy", "--stack-name", name, "--yes"]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("cannot package login"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("GLIBC_2.99 (symbol `"),
        "{}",
        run.stderr
    );
    assert!(stack(&cfn, name).await.is_none());
    assert!(stack(&cfn, &format!("{name}-artifacts")).await.is_none());

    // Someone else already owns one of the stack's parameter names.
    let taken = format!("/{name}/greetings/hi");
    ssm.put_parameter()
        .name(&taken)
        .value("taken")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();

    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(!run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("GreetingHi"), "{}", run.stderr);
    assert!(
        run.stderr.contains("first failed resources"),
        "{}",
        run.stderr
    );
    let failed = stack(&cfn, name).await.unwrap();
    assert_eq!(
        failed.stack_status().map(|s| s.as_str()),
        Some("ROLLBACK_COMPLETE")
    );

    ssm.delete_parameter().name(&taken).send().await.unwrap();
    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("ROLLBACK_COMPLETE"), "{}", run.stderr);
    let deployed = stack(&cfn, name).await.unwrap();
    assert_eq!(
        deployed.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );

    // Destroy deletes data: without a terminal and --yes it stops.
    let run = xtask(&moto, &build, &["destroy", "--stack-name", name]);
    assert!(!run.ok);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(stack(&cfn, name).await.is_some());

    let run = xtask(&moto, &build, &["destroy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(stack(&cfn, name).await.is_none());
}

/// An update that fails: CloudFormation's reason is printed, the exit is
/// non-zero, the stack is back in `UPDATE_ROLLBACK_COMPLETE` with the
/// previous outputs, and the next good deploy goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_update_is_reported_rolls_back_and_the_next_deploy_succeeds() {
    let moto = Moto::start().unwrap();
    let config = sdk_config(&moto).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config);
    let build = fake_build("update-fail");
    let name = "e2e-update";

    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    let before = stack(&cfn, name).await.unwrap();
    let outputs = |s: &aws_sdk_cloudformation::types::Stack| {
        s.outputs()
            .iter()
            .map(|o| {
                (
                    o.output_key().unwrap_or_default().to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let pool = outputs(&before)[infra::stack::outputs::USER_POOL_ID].clone();

    // Drift, as happens in real accounts: someone deletes the user pool
    // behind CloudFormation's back. A new stage changes the app client's
    // callback URL, and Cognito refuses to update a client of a pool that is
    // gone, so the update fails there and rolls back. (The template is the
    // product's own; this is the one failure it can meet at update time.)
    cognito
        .delete_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap();
    let run = xtask(
        &moto,
        &build,
        &["deploy", "--stack-name", name, "--stage", "v2", "--yes"],
    );
    assert!(
        !run.ok,
        "a failed update must exit non-zero:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("first failed resources"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("UPDATE_FAILED"), "{}", run.stderr);
    // CloudFormation's own reason, as the resource's event carried it.
    assert!(
        run.stderr
            .contains(&format!("User pool {pool} does not exist")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ended in UPDATE_ROLLBACK_COMPLETE"),
        "{}",
        run.stderr
    );
    // The rollback retries the client and fails again: one failure, listed once.
    let report = run.stderr.split("first failed resources").nth(1).unwrap();
    assert_eq!(
        report.matches("UPDATE_FAILED:").count(),
        1,
        "{}",
        run.stderr
    );
    let after = stack(&cfn, name).await.unwrap();
    assert_eq!(
        after.stack_status().map(|s| s.as_str()),
        Some("UPDATE_ROLLBACK_COMPLETE")
    );
    assert_eq!(outputs(&after), outputs(&before), "the previous outputs");

    // The rolled-back stack takes the next good deploy: a changed function.
    common::change_function(&build, "login");
    let run = xtask(&moto, &build, &["deploy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.modified().contains(&"LoginFunction".to_owned()),
        "{}",
        run.stderr
    );
    let updated = stack(&cfn, name).await.unwrap();
    assert_eq!(
        updated.stack_status().map(|s| s.as_str()),
        Some("UPDATE_COMPLETE")
    );
    assert_eq!(outputs(&updated), outputs(&before));

    let run = xtask(&moto, &build, &["destroy", "--stack-name", name, "--yes"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(stack(&cfn, name).await.is_none());
}

/// Standard base64 with padding, by hand: the test must not borrow the
/// encoder of the code under test.
/// `logs` over lines put into the deployed stack's own log groups: both
/// functions merged by time, our JSON lines rendered, Lambda's lines as they
/// are, the REPORT summary, `--function`, `--filter`, NDJSON, and `--follow`
/// neither dropping nor repeating events that share a millisecond.
async fn logs_of_the_deployed_stack(
    moto: &Moto,
    build: &Build,
    config: &aws_config::SdkConfig,
    name: &str,
) {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let created = resources(&cfn, name).await;
    let (auth, login) = (&created["AuthLogGroup"].2, &created["LoginLogGroup"].2);
    assert_eq!(
        (auth.as_str(), login.as_str()),
        (
            format!("/{name}/auth").as_str(),
            format!("/{name}/login").as_str()
        )
    );
    let stream = "2026/01/02/[$LATEST]0123456789abcdef";
    for group in [auth, login] {
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
    }
    let put = |group: &str, lines: Vec<(i64, String)>| {
        let request = logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(
                lines
                    .into_iter()
                    .map(|(timestamp, message)| {
                        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                            .timestamp(timestamp)
                            .message(message)
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ));
        async move {
            request.send().await.unwrap();
        }
    };
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 60_000;
    put(
        auth,
        vec![
            (t0, "START RequestId: r-1 Version: $LATEST\n".into()),
            (t0 + 1, r#"{"level":"INFO","message":"sign-in started","request_id":"r-1"}"#.into()),
            (t0 + 1, r#"{"level":"WARN","message":"sign-in not completed","request_id":"r-1","status":403}"#.into()),
            (t0 + 1, "END RequestId: r-1\n".into()),
            (t0 + 2, "REPORT RequestId: r-1\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB\tInit Duration: 10.00 ms\t\n".into()),
        ],
    )
    .await;
    put(
        login,
        vec![
            (t0 + 1, r#"{"level":"INFO","message":"login recorded","request_id":"r-2","username":"ann@example.com"}"#.into()),
            (t0 + 3, r#"{"time":"2026-01-02T03:00:00.000Z","type":"platform.report","record":{"requestId":"r-2","metrics":{"durationMs":7.5,"billedDurationMs":8,"memorySizeMB":256,"maxMemoryUsedMB":30},"status":"success"}}"#.into()),
        ],
    )
    .await;

    // Text, both functions merged by time, no colour into a pipe.
    let run = xtask(
        moto,
        build,
        &["logs", "--stack-name", name, "--since", "5m"],
    );
    assert!(run.ok, "{}", run.stderr);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour codes into a pipe"
    );
    let rest: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split_once(' ').unwrap().1)
        .collect();
    assert_eq!(
        rest,
        [
            "auth  START RequestId: r-1 Version: $LATEST",
            "auth  INFO  r-1 sign-in started",
            "auth  WARN  r-1 sign-in not completed status=403",
            "auth  END RequestId: r-1",
            "login INFO  r-2 login recorded username=ann@example.com",
            "auth  REPORT RequestId: r-1\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB\tInit Duration: 10.00 ms",
            "login platform.report r-2 metrics.durationMs=7.5 metrics.billedDurationMs=8 metrics.memorySizeMB=256 metrics.maxMemoryUsedMB=30 status=success",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("REPORT summary, auth: 1 invocation, duration p50 2.50 ms, max 2.50 ms, max memory 20 MB, 1 cold start (init p50 10.00 ms, max 10.00 ms)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("REPORT summary, login: 1 invocation, duration p50 7.50 ms, max 7.50 ms, max memory 30 MB\n"),
        "{}",
        run.stderr
    );

    // One function, as NDJSON: JSON lines parsed, the rest kept as strings.
    let run = xtask(
        moto,
        build,
        &[
            "logs",
            "--stack-name",
            name,
            "--function",
            "auth",
            "--format",
            "json",
            "--since",
            "5m",
        ],
    );
    assert!(run.ok, "{}", run.stderr);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 5, "{}", run.stdout);
    assert!(
        events
            .iter()
            .all(|e| e["function"] == "auth" && e["logGroup"] == auth.as_str())
    );
    assert!(events.iter().all(
        |e| e["logStream"] == stream && e["eventId"].as_str().is_some_and(|id| !id.is_empty())
    ));
    assert_eq!(
        events[0]["message"],
        "START RequestId: r-1 Version: $LATEST\n"
    );
    assert_eq!(events[0]["timestamp"], t0);
    assert_eq!(events[1]["message"]["message"], "sign-in started");
    assert_eq!(events[2]["message"]["status"], 403);

    // The filter is CloudWatch's.
    let run = xtask(
        moto,
        build,
        &[
            "logs",
            "--stack-name",
            name,
            "--since",
            "5m",
            "--filter",
            "\"sign-in not completed\"",
        ],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("WARN  r-1 sign-in not completed"),
        "{}",
        run.stdout
    );

    // Follow: everything so far once, then what is written later, including
    // an event in the same millisecond as the newest one already shown.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "logs",
            "--stack-name",
            name,
            "--follow",
            "--format",
            "json",
            "--since",
            "5m",
        ])
        .envs(moto.aws_env())
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let take = |count: usize, seen: &mut Vec<serde_json::Value>| {
        while seen.len() < count {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("logs --follow printed nothing new within 30 s");
            seen.push(serde_json::from_str(&line).unwrap());
        }
    };
    take(7, &mut seen);
    put(
        auth,
        vec![
            (t0 + 2, "written later in the same millisecond".into()),
            (t0 + 5, "newer".into()),
        ],
    )
    .await;
    take(9, &mut seen);
    // Two more polls: nothing shown twice.
    std::thread::sleep(Duration::from_secs(5));
    assert!(lines.try_recv().is_err(), "an event was repeated");
    let ids: std::collections::BTreeSet<&str> = seen
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9, "{seen:?}");
    assert_eq!(seen[7]["message"], "written later in the same millisecond");
    assert_eq!(seen[8]["message"], "newer");
    // Ctrl-C ends it cleanly.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The environment a deployed function has, as Lambda reports it.
async fn deployed_env(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> std::collections::BTreeMap<String, String> {
    let config = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .unwrap();
    config
        .environment()
        .and_then(|e| e.variables())
        .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A JSON fixture, by its path from the workspace root.
fn fixture(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(testkit::workspace_root().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs the release binary of `function` on `event` and returns its answer.
async fn invoke_release_event(
    moto: &Moto,
    function: &str,
    event: serde_json::Value,
    mut env: std::collections::BTreeMap<String, String>,
) -> serde_json::Value {
    env.extend(moto.aws_env().into_iter().map(|(k, v)| (k.to_owned(), v)));
    let api = RuntimeApi::start().unwrap();
    let id = api.push_event(event);
    let binary = testkit::target_dir().join("release").join(function);
    let run = tokio::task::spawn_blocking(move || api.run(binary, env, Duration::from_secs(30)))
        .await
        .unwrap()
        .unwrap();
    run.response(&id)
        .cloned()
        .unwrap_or_else(|| panic!("no response: {run:?}"))
}

/// No credentials: `deploy` and `diff` fail in seconds saying what to set,
/// and the (minutes long) build never starts.
#[test]
fn without_credentials_deploy_fails_before_any_build() {
    let commands: [&[&str]; 2] = [&["deploy", "--yes"], &["diff"]];
    for args in commands {
        let build = fake_build("no-credentials");
        let run = common::xtask_without_credentials(&build, args);
        assert!(!run.ok, "{}", run.stderr);
        assert!(
            run.stderr.contains("no AWS credentials found"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("AWS_PROFILE"), "{}", run.stderr);
        assert!(run.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", run.stderr);
        assert!(!run.stderr.contains("building"), "{}", run.stderr);
        assert_eq!(common::cargo_calls(&build), "", "cargo was run");
    }
}

/// The account, region and identity are printed before the build starts,
/// and checked against what the stage of the config file pins: a mismatch
/// is refused before any build.
#[tokio::test(flavor = "multi_thread")]
async fn the_account_is_printed_and_checked_against_the_stage_before_the_build() {
    let moto = Moto::start().unwrap();
    let build = fake_build("identity");
    let run = xtask(&moto, &build, &["diff", "--stack-name", "e2e-identity"]);
    assert!(run.ok, "{}", run.stderr);
    let identity = run
        .stderr
        .find("AWS account 123456789012, region us-east-1, as arn:aws:sts::123456789012:")
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let build_starts = run.stderr.find("building the functions").unwrap();
    assert!(identity < build_starts, "{}", run.stderr);

    // moto's account is 123456789012; prod is pinned to another.
    let dir = common::scratch("pins");
    let file = dir.join("deploy.toml");
    std::fs::write(
        &file,
        "[defaults]\nstack_name = \"e2e-pins\"\n\n\
         [stages.prod]\naccount = \"111111111111\"\nproduction = true\n\n\
         [stages.eu]\naccount = \"123456789012\"\nregion = \"eu-west-1\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let untouched = fake_build("pins");
    let started = std::time::Instant::now();
    let run = xtask(
        &moto,
        &untouched,
        &["deploy", "--config", file, "--stage", "prod", "--yes"],
    );
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "stage prod is pinned to AWS account 111111111111 ("
        ) && run.stderr.contains(
            "[stages.prod]), but these credentials are for account 123456789012 (arn:aws:sts::123456789012:"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("building the functions"),
        "{}",
        run.stderr
    );
    assert_eq!(common::cargo_calls(&untouched), "", "cargo was run");
    // Seconds, not the minutes of a build: the refusal comes first.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    // A pinned region is the region when no --region is given, and another
    // --region is refused.
    let run = xtask(
        &moto,
        &untouched,
        &["outputs", "--config", file, "--stage", "eu"],
    );
    assert!(
        run.stderr
            .contains("AWS account 123456789012, region eu-west-1, as "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("stack e2e-pins does not exist"),
        "{}",
        run.stderr
    );
    let run = xtask(
        &moto,
        &untouched,
        &[
            "destroy",
            "--config",
            file,
            "--stage",
            "eu",
            "--region",
            "us-east-1",
            "--yes",
        ],
    );
    assert!(!run.ok, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("stage eu is pinned to region eu-west-1 (")
            && run
                .stderr
                .contains("but the region is us-east-1 (--region)"),
        "{}",
        run.stderr
    );
    assert_eq!(common::cargo_calls(&untouched), "", "cargo was run");
}

/// Without the aarch64 target, `--arch arm64` says what to install instead
/// of failing deep inside cargo.
#[test]
fn arm64_without_its_target_names_what_is_missing() {
    let sysroot = std::process::Command::new("rustc")
        .current_dir(testkit::workspace_root())
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = std::path::PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot
        .join("lib/rustlib/aarch64-unknown-linux-gnu")
        .is_dir()
    {
        eprintln!("the aarch64 target is installed here; nothing to check");
        return;
    }
    let run = common::xtask_with(None, &Build::Real, &["package", "--arch", "arm64"], &[]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("rustup target add aarch64-unknown-linux-gnu"),
        "{}",
        run.stderr
    );
}
