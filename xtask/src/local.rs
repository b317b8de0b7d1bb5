//! `cargo xtask local`: the whole system on this machine, no AWS account.
//!
//! It builds and packages the functions as `deploy` does, starts moto,
//! deploys the real stack into it through the same deploy code, then serves
//! the hosted-UI stand-in, the API Gateway front and the functions' real
//! `bootstrap` binaries on loopback until Ctrl-C. With `--watch`, every
//! save of a function's source rebuilds it, hotswaps it into moto and
//! restarts its process on the new `bootstrap`.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::aws::Aws;
use crate::hotswap::{self, Attempt};
use crate::package::{self, Arch, Profile};
use crate::rollout;
use crate::stack_args::StackSelection;
use crate::target::{Checked, StagePolicy};
use crate::watch;

/// Options of `cargo xtask local`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Port of the API (the sign-in URL is on it); the hosted UI takes the
    /// next one. 0 picks any free ports.
    #[arg(long, default_value_t = 4000)]
    port: u16,
    #[command(flatten)]
    stack: StackSelection,
    /// Rebuild (the `hotswap` profile, from the start) on every save of a
    /// function's source, hotswap it into moto and restart its process.
    #[arg(long)]
    watch: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    // The stage's settings apply, but not its account and region pins
    // (moto is neither) nor its production policy (local code is hotswapped
    // by `--watch`); and the functions are built for this machine.
    let mut checked = Checked::new(&args.stack.resolve(&[])?)?;
    checked.policy = StagePolicy::DEVELOPMENT;
    let arch = host_arch()?;
    checked.settings.architecture = arch.into();
    let (api_listener, hosted_ui_listener) = listeners(args.port)?;
    let profile = if args.watch {
        Profile::Hotswap
    } else {
        Profile::Release
    };
    let packages = package::build_and_package(arch, profile)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        eprintln!("starting moto (the AWS APIs) on 127.0.0.1");
        let moto = local::moto::Moto::start().context(
            "cannot start moto; local mode needs python3 with venv and pip (Debian: \
             `apt-get install python3-venv python3-pip`)",
        )?;
        let aws = Aws::from_config(&moto.sdk_config().await)?;
        let stack = checked.stack().as_str().to_owned();
        rollout::apply(&aws, &checked, &packages, true)
            .await
            .with_context(|| format!("cannot deploy stack {stack} into moto"))?;

        let work_dir = local::workspace::target_dir().join("local").join(&stack);
        let running = local::system::start(
            &moto,
            local::system::Options {
                stack_name: stack.clone(),
                stage: checked.settings.stage.as_str().to_owned(),
                api_listener,
                hosted_ui_listener,
                zips: packages.iter().map(|p| p.zip.clone()).collect(),
                work_dir,
                show: Arc::new(|line: &str| eprintln!("{line}")),
            },
        )
        .await
        .context("cannot serve the stack deployed in moto")?;

        let mut outputs = running.outputs.clone();
        outputs.push(("HostedUiUrl".to_owned(), running.hosted_ui_origin.clone()));
        outputs.push((
            "MailUrl".to_owned(),
            format!("{}/_local/mail", running.hosted_ui_origin),
        ));
        outputs.push(("AwsEndpointUrl".to_owned(), moto.endpoint().to_owned()));
        crate::outputs::print_pairs(outputs);
        let table = running
            .outputs
            .iter()
            .find(|(key, _)| key == infra::stack::outputs::TABLE_NAME)
            .map_or("TABLE", |(_, value)| value.as_str());
        eprintln!(
            "\nlocal mode is running: open the SignInUrl above in a browser, sign up, and read the \
             confirmation code on this terminal or at the MailUrl.\n\
             look at the data with the AWS CLI:\n  \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
             aws --endpoint-url {} dynamodb scan --table-name {table}\n\
             press Ctrl-C to stop everything (moto keeps its data in memory only)",
            moto.endpoint()
        );
        if args.watch {
            // Watching starts before the line says so: a save right after it is seen.
            let dirs = watch::function_sources();
            let sources = watch::Sources::watch(&dirs)?;
            eprintln!(
                "watching {} for saves: each one rebuilds, hotswaps into moto and restarts the function",
                watch::folder_list(&dirs)
            );
            tokio::select! {
                stop = wait_for_stop() => stop?,
                watched = watch_and_swap(sources, &aws, &checked, arch, &running) => watched?,
            }
        } else {
            wait_for_stop().await?;
        }
        eprintln!("stopping");
        running.stop().await;
        drop(moto);
        Ok(())
    })
}

/// On every save: rebuild, hotswap into moto, restart what changed.
async fn watch_and_swap(
    mut sources: watch::Sources,
    aws: &Aws,
    checked: &Checked,
    arch: Arch,
    running: &local::system::Running,
) -> anyhow::Result<()> {
    while let Some(saved) = sources.after_round().await {
        watch::announce(&saved);
        if let Err(err) = swap_round(aws, checked, arch, running).await {
            eprintln!("error: {err:#}\nwatching goes on: save again to retry");
        }
    }
    Ok(())
}

async fn swap_round(
    aws: &Aws,
    checked: &Checked,
    arch: Arch,
    running: &local::system::Running,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let packages = watch::hotswap_build(arch).await?;
    match hotswap::attempt(aws, checked, &packages).await? {
        Attempt::Swapped(swaps) => hotswap::print(&swaps),
        Attempt::Blocked(blocker) => {
            bail!("cannot hotswap into moto: {blocker}; restart `cargo xtask local` for that")
        }
    }
    let zips: Vec<Vec<u8>> = packages.into_iter().map(|p| p.zip).collect();
    let restarted = running
        .refresh(&zips)
        .await
        .context("cannot restart the functions on their new code")?;
    for name in &restarted {
        eprintln!("  {name}: restarted on its new bootstrap");
    }
    eprintln!(
        "live {:.2} s after the save",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The processor this machine runs the functions' binaries on: local mode
/// runs the very zips `deploy` ships, built for `provided.al2023` (Linux).
fn host_arch() -> anyhow::Result<Arch> {
    if std::env::consts::OS != "linux" {
        bail!(
            "local mode runs the functions' Linux binaries and needs Linux (this is {}); \
             run it in a Linux VM or container",
            std::env::consts::OS
        );
    }
    match std::env::consts::ARCH {
        "x86_64" => Ok(Arch::X86_64),
        "aarch64" => Ok(Arch::Arm64),
        other => bail!("local mode needs an x86_64 or arm64 machine; this one is {other}"),
    }
}

/// Binds the API's port and the hosted UI's (the next one) before anything
/// is built, so a port in use fails in a second.
fn listeners(port: u16) -> anyhow::Result<(TcpListener, TcpListener)> {
    let bind = |port: u16| {
        TcpListener::bind(("127.0.0.1", port)).map_err(|err| {
            if err.kind() == ErrorKind::AddrInUse {
                anyhow::anyhow!(
                    "port {port} on 127.0.0.1 is in use (is another `cargo xtask local` running?); \
                     pass --port with a free one, or --port 0 for any free ports"
                )
            } else {
                anyhow::Error::new(err).context(format!("cannot listen on 127.0.0.1:{port}"))
            }
        })
    };
    let api = bind(port)?;
    let next = if port == 0 {
        0
    } else {
        port.checked_add(1)
            .context("--port must leave room for the hosted UI on the next port")?
    };
    Ok((api, bind(next)?))
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn wait_for_stop() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("cannot listen for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}
