//! `cargo xtask watch`: rebuild and hotswap on every save of a function's
//! source, and show the functions' new log lines as they come.
//!
//! Saves are watched under `functions/` (the function crates and the
//! crates they share). Saves that arrive while a round (build, package,
//! hotswap) runs are coalesced into one more round after it. The log lines
//! come from `logs`'s follower (`FilterLogEvents` on each function's log
//! group, the one the template names in its `LoggingConfig`, deduplicated
//! by event id), rendered as `logs` renders them.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use notify::Watcher as _;
use tokio::sync::mpsc;

use crate::aws::Aws;
use crate::config::Layer;
use crate::hotswap::{self, Attempt};
use crate::logs::{self, Follower, Function};
use crate::package::{self, Arch, Package, Profile};
use crate::target::{Checked, Target};

/// Options of `cargo xtask watch`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
}

/// How long a burst of saves (an editor writing a file in steps, "save
/// all") may take to count as one.
const SETTLE: Duration = Duration::from_millis(200);

/// Between two looks at the log groups: new lines show within a second
/// (`logs --follow` waits two, being the only thing a person watches).
const LOG_POLL: Duration = Duration::from_secs(1);

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.target.resolve(&Layer::default())?;
    let checked = Checked::new(&config)?;
    hotswap::check_allowed(&checked)?;
    let arch = checked.arch();
    // Two workers: the log tail goes on while a round waits for cargo.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        // Credentials, region and account first, and the stage's pins.
        let (aws, _) = config.connect(&args.target.aws).await?;
        let dirs = function_sources();
        let mut sources = Sources::watch(&dirs)?;
        let groups = Function::ALL
            .into_iter()
            .map(|function| Ok((function, logs::log_group(checked.stack(), function)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let tail = tokio::spawn(tail_logs(aws.clone(), groups));
        eprintln!("watching {} for saves; Ctrl-C stops", folder_list(&dirs));
        let rounds = async {
            // The first round brings the live code up to the source as it is now.
            let mut saved = BTreeSet::new();
            loop {
                round(&aws, &checked, arch, &saved).await;
                saved = match sources.after_round().await {
                    Some(saved) => saved,
                    None => return Ok::<(), anyhow::Error>(()),
                };
            }
        };
        let stopped = tokio::select! {
            done = rounds => done,
            stop = crate::local::wait_for_stop() => stop,
        };
        tail.abort();
        eprintln!("stopped watching");
        stopped
    });
    // A round may be waiting for cargo, which the same Ctrl-C stops.
    runtime.shutdown_timeout(Duration::from_secs(5));
    result
}

/// The folders whose saves start a round: the functions and the crates they
/// share (a save in `lib/testkit` makes a round that finds nothing to swap).
pub(crate) fn function_sources() -> [PathBuf; 2] {
    let root = local::workspace::root();
    [root.join("functions"), root.join("lib")]
}

/// `functions/ and lib/`, for the line that says what is watched.
pub(crate) fn folder_list(dirs: &[PathBuf]) -> String {
    let root = local::workspace::root();
    let names: Vec<String> = dirs
        .iter()
        .map(|dir| format!("{}/", dir.strip_prefix(&root).unwrap_or(dir).display()))
        .collect();
    names.join(" and ")
}

/// Builds with the hotswap profile on a blocking thread (cargo takes its time).
pub(crate) async fn hotswap_build(arch: Arch) -> anyhow::Result<Vec<Package>> {
    tokio::task::spawn_blocking(move || package::build_and_package(arch, Profile::Hotswap))
        .await
        .context("the build stopped unexpectedly")?
}

/// One round: build, hotswap, report. An error is printed and the watch goes on.
async fn round(aws: &Aws, checked: &Checked, arch: Arch, saved: &BTreeSet<PathBuf>) {
    announce(saved);
    let started = std::time::Instant::now();
    let result = async {
        let packages = hotswap_build(arch).await?;
        hotswap::attempt(aws, checked, &packages).await
    }
    .await;
    match result {
        Ok(Attempt::Swapped(swaps)) => {
            hotswap::print(&swaps);
            eprintln!(
                "live {:.2} s after the save",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(Attempt::Blocked(blocker)) => eprintln!(
            "cannot hotswap: {blocker}. Run `cargo xtask deploy` for that; watching goes on"
        ),
        Err(err) => eprintln!("error: {err:#}\nwatching goes on: save again to retry"),
    }
}

/// Says what started a round.
pub(crate) fn announce(saved: &BTreeSet<PathBuf>) {
    let root = local::workspace::root();
    let names: Vec<String> = saved
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
        .collect();
    match names.as_slice() {
        [] => eprintln!("bringing the live functions up to the source"),
        [one] => eprintln!("{one} saved"),
        many => eprintln!("{} files saved: {}", many.len(), many.join(", ")),
    }
}

/// Saves of source files under a folder, as they come.
pub(crate) struct Sources {
    // Watching stops when it drops.
    _watcher: notify::RecommendedWatcher,
    saves: mpsc::UnboundedReceiver<PathBuf>,
}

impl Sources {
    /// Starts watching each of `dirs` and everything below them.
    pub(crate) fn watch(dirs: &[PathBuf]) -> anyhow::Result<Self> {
        let (sender, saves) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if !(event.kind.is_create() || event.kind.is_modify() || event.kind.is_remove()) {
                    return;
                }
                for path in event.paths.into_iter().filter(|p| is_source(p)) {
                    // The receiver is gone only when watching has ended.
                    let _ = sender.send(path);
                }
            })
            .context("cannot watch for file changes")?;
        for dir in dirs {
            watcher
                .watch(dir, notify::RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
        }
        Ok(Self {
            _watcher: watcher,
            saves,
        })
    }

    /// What to do after a round: the files saved while it ran, as one
    /// more round, or else the next save; each with the saves of the
    /// moment after it. `None` once watching has ended.
    pub(crate) async fn after_round(&mut self) -> Option<BTreeSet<PathBuf>> {
        let mut saved = BTreeSet::new();
        while let Ok(path) = self.saves.try_recv() {
            saved.insert(path);
        }
        if saved.is_empty() {
            saved.insert(self.saves.recv().await?);
        } else {
            eprintln!(
                "{} file(s) saved during the last round: one more round",
                saved.len()
            );
        }
        while let Ok(Some(path)) = tokio::time::timeout(SETTLE, self.saves.recv()).await {
            saved.insert(path);
        }
        Some(saved)
    }
}

/// Rust sources and manifests; not editors' swap and backup files.
fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
        || path.file_name().is_some_and(|n| n == "Cargo.toml")
}

/// Prints the new lines of each function's log group (`(function, log
/// group)`), every [`LOG_POLL`], from now on, as `logs` renders them, on
/// stderr with everything else `watch` says. A group that cannot be read is
/// said once until it can be again, and the tail goes on.
async fn tail_logs(aws: Aws, groups: Vec<(Function, String)>) {
    let mut follower = Follower::new(groups, None, logs::now_millis());
    let mut failing: HashSet<String> = HashSet::new();
    loop {
        let poll = follower.poll(&aws.logs).await;
        let mut err = anstream::stderr();
        for event in &poll.events {
            // Nowhere to say that stderr is gone.
            let _ = logs::write_text(&mut err, event);
        }
        let now_failing: HashSet<String> = poll.failed.iter().map(|(g, _)| g.clone()).collect();
        for (group, error) in poll.failed {
            if !failing.contains(&group) {
                eprintln!("cannot read log group {group}: {error:#}; trying again every second");
            }
        }
        failing = now_failing;
        tokio::time::sleep(LOG_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rust_sources_and_manifests_start_a_round() {
        assert!(is_source(Path::new("functions/login/src/lib.rs")));
        assert!(is_source(Path::new("functions/login/Cargo.toml")));
        assert!(!is_source(Path::new("functions/login/src/.lib.rs.swp")));
        assert!(!is_source(Path::new("functions/login/src/lib.rs~")));
        assert!(!is_source(Path::new("functions/login/src/4913")));
    }

    #[tokio::test]
    async fn saves_during_a_round_make_one_more_round() {
        let dir = std::env::temp_dir().join(format!("xtask-watch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut sources = Sources::watch(std::slice::from_ref(&dir)).unwrap();

        std::fs::write(dir.join("src/a.rs"), "// one").unwrap();
        let first = sources.after_round().await.unwrap();
        assert_eq!(first, BTreeSet::from([dir.join("src/a.rs")]));

        // A round runs; meanwhile three saves of two files, and a swap file.
        std::fs::write(dir.join("src/b.rs"), "// two").unwrap();
        std::fs::write(dir.join("src/.b.rs.swp"), "x").unwrap();
        std::fs::write(dir.join("src/a.rs"), "// three").unwrap();
        std::fs::write(dir.join("src/b.rs"), "// four").unwrap();
        // Let the watcher deliver them before the round ends.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let follow_up = sources.after_round().await.unwrap();
        assert_eq!(
            follow_up,
            BTreeSet::from([dir.join("src/a.rs"), dir.join("src/b.rs")])
        );

        // Nothing more: the next round waits for the next save.
        let next = tokio::time::timeout(Duration::from_millis(500), sources.after_round()).await;
        assert!(next.is_err(), "{next:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
