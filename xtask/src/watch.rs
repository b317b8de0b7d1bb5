//! `cargo xtask watch`: rebuild and hotswap on every save of a function's
//! source, and show the functions' new log lines as they come.
//!
//! Saves are watched under `functions/` (the function crates and the
//! crates they share). Saves that arrive while a round (build, package,
//! hotswap) runs are coalesced into one more round after it. The log lines
//! come from polling `FilterLogEvents` on each function's log group (its
//! `LoggingConfig`, as Lambda reports it), deduplicated by event id.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use notify::Watcher as _;
use tokio::sync::mpsc;

use crate::aws::{Aws, sdk};
use crate::config::Layer;
use crate::hotswap::{self, Attempt};
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

/// Between two looks at the log groups.
const LOG_POLL: Duration = Duration::from_secs(1);

/// How far back each look at the log groups reaches: CloudWatch Logs may
/// make an event visible some seconds after its timestamp.
const LOG_LATENESS: Duration = Duration::from_secs(120);

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
        let (groups, watched) = tokio::sync::watch::channel(Vec::new());
        let tail = tokio::spawn(tail_logs(aws.clone(), watched));
        eprintln!("watching {} for saves; Ctrl-C stops", folder_list(&dirs));
        let rounds = async {
            // The first round brings the live code up to the source as it is now.
            let mut saved = BTreeSet::new();
            loop {
                if let Some(found) = round(&aws, &checked, arch, &saved).await {
                    // The tail ends only with the command, so nobody may be listening yet: fine.
                    let _ = groups.send(found);
                }
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

/// One round: build, hotswap, report. Returns each function's log group
/// after a hotswap; an error is printed and the watch goes on.
async fn round(
    aws: &Aws,
    checked: &Checked,
    arch: Arch,
    saved: &BTreeSet<PathBuf>,
) -> Option<Vec<(String, String)>> {
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
            Some(
                swaps
                    .into_iter()
                    .map(|s| (s.function.to_owned(), s.log_group))
                    .collect(),
            )
        }
        Ok(Attempt::Blocked(blocker)) => {
            eprintln!(
                "cannot hotswap: {blocker}. Run `cargo xtask deploy` for that; watching goes on"
            );
            None
        }
        Err(err) => {
            eprintln!("error: {err:#}\nwatching goes on: save again to retry");
            None
        }
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

/// Prints the new lines of each function's log group, every [`LOG_POLL`],
/// from now on; `groups` names them, `(function, log group)`, once known.
async fn tail_logs(aws: Aws, mut groups: tokio::sync::watch::Receiver<Vec<(String, String)>>) {
    let started = millis(SystemTime::now());
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut failing: HashSet<String> = HashSet::new();
    loop {
        let current = groups.borrow_and_update().clone();
        for (function, group) in &current {
            let since = (millis(SystemTime::now()) - millis_of(LOG_LATENESS)).max(started);
            match new_events(&aws, group, since, &mut seen).await {
                Ok(lines) => {
                    failing.remove(group);
                    for line in lines {
                        eprintln!("[{function}] {}", line.trim_end());
                    }
                }
                Err(err) => {
                    // Once per outage, not once a second.
                    if failing.insert(group.clone()) {
                        eprintln!("cannot read log group {group}: {err:#}");
                    }
                }
            }
            // Ids older than the window cannot come back.
            seen.retain(|_, at| *at >= since);
        }
        tokio::select! {
            () = tokio::time::sleep(LOG_POLL) => {}
            changed = groups.changed() => if changed.is_err() { return },
        }
    }
}

/// The messages of `group` since `since` (ms) whose event ids are not in
/// `seen`, oldest first; their ids go into `seen`.
async fn new_events(
    aws: &Aws,
    group: &str,
    since: i64,
    seen: &mut HashMap<String, i64>,
) -> anyhow::Result<Vec<String>> {
    let mut pages = aws
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(since)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(sdk)?;
        for event in page.events() {
            let (Some(id), Some(message)) = (event.event_id(), event.message()) else {
                continue;
            };
            if seen
                .insert(id.to_owned(), event.timestamp().unwrap_or(since))
                .is_none()
            {
                events.push((event.timestamp().unwrap_or(since), message.to_owned()));
            }
        }
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(events.into_iter().map(|(_, message)| message).collect())
}

fn millis(time: SystemTime) -> i64 {
    millis_of(time.duration_since(UNIX_EPOCH).unwrap_or_default())
}

fn millis_of(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
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
