//! AWS clients from the standard chain (`--region`, `--profile`, the
//! environment, `AWS_ENDPOINT_URL`), with a count of the requests we send.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_cloudformation::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_cloudformation::config::{ConfigBag, Intercept, Region, RuntimeComponents};

/// Where to talk to AWS, shared by every command that does.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct AwsArgs {
    /// AWS region (default: the standard chain, e.g. `AWS_REGION` or the profile's).
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// Named profile from ~/.aws/config (default: `AWS_PROFILE` or `default`).
    #[arg(long)]
    pub(crate) profile: Option<String>,
}

/// Counts the operations the SDK clients run and the HTTP requests they send
/// (one per attempt), so a deploy can report what it cost, retries included,
/// and the benchmark can read it.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallCounter {
    operations: Arc<AtomicUsize>,
    attempts: Arc<AtomicUsize>,
}

impl CallCounter {
    /// HTTP requests sent, retries included.
    pub(crate) fn get(&self) -> usize {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Requests that repeated an earlier one (after a throttle, a 5xx, a reset).
    pub(crate) fn retries(&self) -> usize {
        self.get()
            .saturating_sub(self.operations.load(Ordering::Relaxed))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.operations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Who the credentials belong to, as STS says.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) account: String,
    pub(crate) arn: String,
}

/// Attempts per call unless `AWS_MAX_ATTEMPTS` says otherwise: CloudFormation
/// throttles bursts of Describe calls, and a deploy is a long chain of calls
/// where one give-up fails the whole command.
const MAX_ATTEMPTS: u32 = 6;

/// The clients the commands need.
#[derive(Clone, Debug)]
pub(crate) struct Aws {
    pub(crate) cfn: aws_sdk_cloudformation::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    /// Hotswaps and the check that the live code is the code the stack names.
    pub(crate) lambda: aws_sdk_lambda::Client,
    /// `logs` reads the functions' log groups; `watch` shows their new lines.
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) region: String,
    pub(crate) calls: CallCounter,
    /// Asked of STS once per command.
    pub(crate) identity: Arc<std::sync::OnceLock<Identity>>,
}

impl Aws {
    /// Loads the configuration from the standard chain and resolves the
    /// credentials at once: without a region or credentials it fails in
    /// seconds, saying what to set, before anything is built.
    pub(crate) async fn load(args: &AwsArgs) -> anyhow::Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &args.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        }
        let config = loader.load().await;
        let aws = Self::from_config(&config)?;
        check_credentials(&config).await?;
        Ok(aws)
    }

    /// The clients for an SDK configuration made elsewhere (local mode's moto).
    pub(crate) fn from_config(config: &aws_config::SdkConfig) -> anyhow::Result<Self> {
        let region = config
            .region()
            .map(|r| r.as_ref().to_owned())
            .context("cannot tell which AWS region to use; pass --region or set AWS_REGION")?;
        let calls = CallCounter::default();
        // Every client counts its calls (the figure `deploy` reports).
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(config)
                        .interceptor(calls.clone())
                        .build(),
                )
            };
        }
        let cfn = client!(aws_sdk_cloudformation);
        let s3 = client!(aws_sdk_s3);
        let sts = client!(aws_sdk_sts);
        let lambda = client!(aws_sdk_lambda);
        let logs = client!(aws_sdk_cloudwatchlogs);
        Ok(Self {
            cfn,
            s3,
            sts,
            lambda,
            logs,
            region,
            calls,
            identity: Arc::default(),
        })
    }

    /// Who the credentials belong to (sts:GetCallerIdentity), printed so a
    /// person sees which account and region a command is about to change.
    pub(crate) async fn identify(&self) -> anyhow::Result<Identity> {
        let identity = self.identity().await?;
        eprintln!(
            "AWS account {}, region {}, as {}",
            identity.account, self.region, identity.arn
        );
        Ok(identity)
    }

    /// The account the credentials belong to.
    pub(crate) async fn account(&self) -> anyhow::Result<String> {
        Ok(self.identity().await?.account)
    }

    async fn identity(&self) -> anyhow::Result<Identity> {
        if let Some(known) = self.identity.get() {
            return Ok(known.clone());
        }
        let me = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(sdk)
            .context(
                "cannot find out whose AWS credentials these are (sts:GetCallerIdentity); \
                 check that they are current (`aws sso login`, or fresh keys)",
            )?;
        let identity = Identity {
            account: me
                .account
                .context("cannot find the AWS account: GetCallerIdentity answered without one")?,
            arn: me.arn.unwrap_or_else(|| "?".to_owned()),
        };
        Ok(self.identity.get_or_init(|| identity).clone())
    }
}

/// Resolves the credentials once, so a missing one fails now and says what to set.
async fn check_credentials(config: &aws_config::SdkConfig) -> anyhow::Result<()> {
    const WHAT_TO_SET: &str = "set AWS_PROFILE (or pass --profile) to a profile of ~/.aws/config, \
         run `aws sso login` for an SSO profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    let Some(provider) = config.credentials_provider() else {
        anyhow::bail!("no AWS credentials are configured; {WHAT_TO_SET}");
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(CredentialsError::CredentialsNotLoaded(_)) => {
            anyhow::bail!("no AWS credentials found; {WHAT_TO_SET}")
        }
        Err(err) => {
            Err(sdk(err)).context(format!("cannot load the AWS credentials; {WHAT_TO_SET}"))
        }
    }
}

/// Turns an SDK error into one whose message shows the whole cause chain.
pub(crate) fn sdk<E>(err: E) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    anyhow::anyhow!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(err)
    )
}

/// Runs `future` on a small runtime: the commands are sequential and mostly wait.
pub(crate) fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// Wall and CPU time of our own process from a starting point, so a deploy
/// can say what it cost apart from the build and from the cloud's waiting.
pub(crate) struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// The last line of a command: time taken, CPU used, API calls made.
    pub(crate) fn report(&self, aws: &Aws) {
        let cpu = match (self.cpu, process_cpu()) {
            (Some(start), Some(now)) => {
                format!(", {:.2} s CPU", now.saturating_sub(start).as_secs_f64())
            }
            _ => String::new(),
        };
        eprintln!(
            "done in {:.2} s (build excluded{cpu}), {} AWS API calls ({} retries)",
            self.wall.elapsed().as_secs_f64(),
            aws.calls.get(),
            aws.calls.retries()
        );
    }
}

/// User + system CPU time of this process (all threads), on Linux.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name in parentheses may hold spaces; fields follow the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ, the unit of these fields, is 100 on every Linux ABI.
    Some(Duration::from_millis(ticks * 10))
}
