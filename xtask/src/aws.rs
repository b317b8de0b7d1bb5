//! AWS clients from the standard chain (`--region`, `--profile`, the
//! environment, `AWS_ENDPOINT_URL`), with a count of the requests we send.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_sdk_cloudformation::config::interceptors::BeforeTransmitInterceptorContextRef;
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

/// Counts every HTTP request (retries included) the SDK clients send, so a
/// deploy can report what it cost and the benchmark can read it.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallCounter(Arc<AtomicUsize>);

impl CallCounter {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
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
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The clients a deploy or destroy needs.
#[derive(Clone, Debug)]
pub(crate) struct Aws {
    pub(crate) cfn: aws_sdk_cloudformation::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) region: String,
    pub(crate) calls: CallCounter,
}

impl Aws {
    /// Loads the configuration from the standard chain; fails early without a region.
    pub(crate) async fn load(args: &AwsArgs) -> anyhow::Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &args.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        Self::from_config(&loader.load().await)
    }

    /// The clients for an SDK configuration made elsewhere (local mode's moto).
    pub(crate) fn from_config(config: &aws_config::SdkConfig) -> anyhow::Result<Self> {
        let region = config
            .region()
            .map(|r| r.as_ref().to_owned())
            .context("cannot tell which AWS region to use; pass --region or set AWS_REGION")?;
        let calls = CallCounter::default();
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::config::Builder::from(config)
                .interceptor(calls.clone())
                .build(),
        );
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .interceptor(calls.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .interceptor(calls.clone())
                .build(),
        );
        Ok(Self {
            cfn,
            s3,
            sts,
            region,
            calls,
        })
    }

    /// The account the credentials belong to.
    pub(crate) async fn account_id(&self) -> anyhow::Result<String> {
        let me = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(sdk)
            .context("cannot find the AWS account (sts:GetCallerIdentity); are credentials set?")?;
        me.account
            .context("cannot find the AWS account: GetCallerIdentity answered without one")
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
            "done in {:.2} s (build excluded{cpu}), {} AWS API calls",
            self.wall.elapsed().as_secs_f64(),
            aws.calls.get()
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
