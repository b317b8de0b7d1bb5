//! Build the functions for Lambda, refuse binaries the runtime cannot load,
//! and zip each one reproducibly as `bootstrap`, keyed by the zip's SHA-256.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use object::read::elf::{ElfFile64, Sym};
use sha2::{Digest, Sha256};

pub(crate) use crate::stack_args::Arch;

/// The function crates, each with one binary of the same name.
pub(crate) const FUNCTIONS: [&str; 2] = ["auth", "login"];

/// `provided.al2023` ships glibc 2.34; a binary that asks for a newer
/// `GLIBC_` version fails at cold start with "GLIBC_2.3x not found".
pub(crate) const MAX_GLIBC: (u32, u32) = (2, 34);

fn rust_target(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-unknown-linux-gnu",
        Arch::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// Whether this machine builds `arch` without `--target` (then the binaries
/// land in `target/<profile>`, shared with every other build of that profile).
fn host_matches(arch: Arch) -> bool {
    match arch {
        Arch::X86_64 => cfg!(all(
            target_arch = "x86_64",
            target_os = "linux",
            target_env = "gnu"
        )),
        Arch::Arm64 => cfg!(all(
            target_arch = "aarch64",
            target_os = "linux",
            target_env = "gnu"
        )),
    }
}

/// The cargo profile the functions are built with.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// `[profile.release]`, tuned for Lambda (fat LTO, one codegen unit,
    /// `opt-level = "s"`): small zips and fast cold starts, minutes to rebuild.
    Release,
    /// `[profile.hotswap]`: the release profile without LTO, with many
    /// codegen units and incremental builds, for the edit-and-try loop
    /// (`deploy --hotswap`, `watch`, `local --watch`).
    Hotswap,
}

impl Profile {
    /// The profile's name in `Cargo.toml`, which is also its folder under the target directory.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Hotswap => "hotswap",
        }
    }
}

/// Options of `cargo xtask package`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The Lambda architecture to build for.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    arch: Arch,
    /// The cargo profile to build with.
    #[arg(long, value_enum, default_value_t = Profile::Release)]
    profile: Profile,
    /// Write `<function>.zip` files here.
    #[arg(long, default_value = "target/lambda")]
    out: PathBuf,
}

/// Builds, checks and zips both functions and writes the zips, printing
/// `<function> <sha256> <bytes> <newest GLIBC_ needed>` per line (what deploy would upload).
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let packages = build_and_package(args.arch, args.profile)?;
    let out = local::workspace::root().join(&args.out);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    for p in &packages {
        let path = out.join(format!("{}.zip", p.function));
        std::fs::write(&path, &p.zip)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "{} {} {} {}",
            p.function,
            p.key,
            p.zip.len(),
            p.glibc_text()
        );
    }
    Ok(())
}

/// One function, ready to upload.
pub(crate) struct Package {
    /// The crate and binary name (`auth`, `login`).
    pub(crate) function: &'static str,
    /// The zip holding `bootstrap`.
    pub(crate) zip: Vec<u8>,
    /// Hex SHA-256 of [`Self::zip`]: the S3 key, so unchanged code is never uploaded twice.
    pub(crate) key: String,
    /// The newest `GLIBC_` version the binary needs, if it links glibc.
    pub(crate) glibc: Option<(u32, u32)>,
}

impl Package {
    /// "GLIBC_2.34", or "no glibc" for a static binary.
    pub(crate) fn glibc_text(&self) -> String {
        self.glibc.map_or_else(
            || "no glibc".to_owned(),
            |(major, minor)| format!("GLIBC_{major}.{minor}"),
        )
    }
}

/// The cargo that runs us (`$CARGO`), else the one on `PATH`.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Builds both functions with `profile` for `arch`, checks them and zips
/// them, saying on stderr what came out and how long it took.
pub(crate) fn build_and_package(arch: Arch, profile: Profile) -> anyhow::Result<Vec<Package>> {
    eprintln!("building the functions ({}, {arch:?})", profile.name());
    let started = std::time::Instant::now();
    let dir = compile(arch, profile)?;
    let built = started.elapsed();
    let packages = package(&dir, profile)?;
    eprintln!(
        "built in {:.2} s, packaged in {:.2} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
    for p in &packages {
        eprintln!(
            "  {} {} bytes, sha256 {}, needs {} (provided.al2023 has {}.{})",
            p.function,
            p.zip.len(),
            p.key,
            p.glibc_text(),
            MAX_GLIBC.0,
            MAX_GLIBC.1
        );
    }
    Ok(packages)
}

/// Checks and zips the binaries the build left in `dir`.
pub(crate) fn package(dir: &Path, profile: Profile) -> anyhow::Result<Vec<Package>> {
    FUNCTIONS
        .iter()
        .map(|&function| {
            let path = dir.join(function);
            let binary = std::fs::read(&path).with_context(|| {
                format!(
                    "cannot read {}; did `cargo build --profile {} -p {function}` succeed?",
                    path.display(),
                    profile.name()
                )
            })?;
            let glibc =
                check_glibc(&binary).with_context(|| format!("cannot package {function}"))?;
            let zip = zip_bootstrap(&binary).with_context(|| format!("cannot zip {function}"))?;
            let key = sha256_hex(&zip);
            Ok(Package {
                function,
                zip,
                key,
                glibc,
            })
        })
        .collect()
}

/// Runs the build and returns the folder holding the binaries.
fn compile(arch: Arch, profile: Profile) -> anyhow::Result<PathBuf> {
    let root = local::workspace::root();
    let mut command = Command::new(cargo());
    command
        .current_dir(&root)
        .args(["build", "--profile", profile.name(), "--quiet"]);
    for function in FUNCTIONS {
        command.args(["-p", function]);
    }
    let cross = !host_matches(arch);
    if cross {
        check_cross_prerequisites(arch, &mut command)?;
        command.args(["--target", rust_target(arch)]);
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run `{} build`", cargo()))?;
    if !status.success() {
        bail!(
            "the {} build of the functions failed ({status}); see cargo's output above",
            profile.name()
        );
    }
    let target_dir = local::workspace::target_dir();
    Ok(if cross {
        target_dir.join(rust_target(arch)).join(profile.name())
    } else {
        target_dir.join(profile.name())
    })
}

/// A cross build needs the Rust standard library for the target and a
/// linker for it; name whichever is missing instead of failing deep in cargo.
fn check_cross_prerequisites(arch: Arch, command: &mut Command) -> anyhow::Result<()> {
    let target = rust_target(arch);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let sysroot = Command::new(&rustc)
        .current_dir(local::workspace::root())
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("cannot run `{rustc} --print sysroot`"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        bail!(
            "cannot build for {arch:?}: the Rust target {target} is not installed; run `rustup target add {target}`"
        );
    }
    let env_var = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace('-', "_")
    );
    if std::env::var_os(&env_var).is_none() {
        let linker = match arch {
            Arch::Arm64 => "aarch64-linux-gnu-gcc",
            Arch::X86_64 => "x86_64-linux-gnu-gcc",
        };
        if !on_path(linker) {
            bail!(
                "cannot build for {arch:?}: no linker for {target}; install `{linker}` \
                 (Debian/Ubuntu: `apt install gcc-{}`) or set {env_var}",
                linker.trim_end_matches("-gcc")
            );
        }
        command.env(&env_var, linker);
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A `GLIBC_` symbol version a binary needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlibcNeed {
    pub(crate) symbol: String,
    pub(crate) version: (u32, u32),
}

/// Every imported dynamic symbol that carries a `GLIBC_x.y` version.
pub(crate) fn glibc_needs(elf: &[u8]) -> anyhow::Result<Vec<GlibcNeed>> {
    let file = ElfFile64::<object::Endianness>::parse(elf)
        .context("cannot parse the binary as 64-bit ELF")?;
    let endian = file.endian();
    let Some(versions) = file
        .elf_section_table()
        .versions(endian, elf)
        .context("cannot read the ELF symbol versions")?
    else {
        // Statically linked (or no versioned imports): nothing glibc can refuse.
        return Ok(Vec::new());
    };
    let symbols = file.elf_dynamic_symbol_table();
    let mut needs = Vec::new();
    for (index, symbol) in symbols.enumerate() {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let Some(version) = versions
            .version(versions.version_index(endian, index))
            .context("cannot read a symbol's version")?
        else {
            continue;
        };
        let Some(version) = parse_glibc_version(&String::from_utf8_lossy(version.name())) else {
            continue;
        };
        let name = symbols
            .symbol_name(endian, symbol)
            .context("cannot read a symbol name")?;
        needs.push(GlibcNeed {
            symbol: String::from_utf8_lossy(name).into_owned(),
            version,
        });
    }
    Ok(needs)
}

/// `GLIBC_2.34` → `(2, 34)`; anything else (`GLIBC_PRIVATE`, `GCC_3.0`) → `None`.
fn parse_glibc_version(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Refuses a binary that needs a glibc newer than [`MAX_GLIBC`], naming the
/// symbol; otherwise returns the newest version it needs.
pub(crate) fn check_glibc(elf: &[u8]) -> anyhow::Result<Option<(u32, u32)>> {
    let needs = glibc_needs(elf)?;
    if let Some(worst) = needs
        .iter()
        .filter(|n| n.version > MAX_GLIBC)
        .max_by_key(|n| n.version)
    {
        bail!(
            "the binary needs GLIBC_{}.{} (symbol `{}`) but provided.al2023 has glibc {}.{}; \
             it would fail at cold start with \"GLIBC_{}.{} not found\": build on an older \
             distribution (or in an Amazon Linux 2023 container)",
            worst.version.0,
            worst.version.1,
            worst.symbol,
            MAX_GLIBC.0,
            MAX_GLIBC.1,
            worst.version.0,
            worst.version.1,
        );
    }
    Ok(needs.iter().map(|n| n.version).max())
}

/// Zips `binary` as `bootstrap` with mode 0755, the DOS epoch as its mtime
/// and fixed deflate settings, so the same binary always gives the same bytes.
pub(crate) fn zip_bootstrap(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("bootstrap", options)
        .context("cannot start bootstrap in the zip")?;
    writer
        .write_all(binary)
        .context("cannot write bootstrap into the zip")?;
    Ok(writer
        .finish()
        .context("cannot finish the zip")?
        .into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn zipping_twice_gives_the_same_bytes() {
        let binary: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let first = zip_bootstrap(&binary).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = zip_bootstrap(&binary).unwrap();
        assert_eq!(sha256_hex(&first), sha256_hex(&second));
        assert_eq!(first, second);
    }

    #[test]
    fn the_zip_holds_an_executable_bootstrap() {
        let zip = zip_bootstrap(b"\x7fELF pretend").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut file = archive.by_index(0).unwrap();
        assert_eq!(file.name(), "bootstrap");
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut body = Vec::new();
        file.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"\x7fELF pretend");
    }

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(parse_glibc_version("GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc_version("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc_version("GCC_3.0"), None);
    }

    #[test]
    fn reads_the_glibc_needs_of_a_real_binary() {
        // This test binary is a dynamically linked ELF built on this host.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let needs = glibc_needs(&me).unwrap();
        assert!(
            !needs.is_empty(),
            "a glibc-linked binary imports versioned symbols"
        );
        assert!(needs.iter().all(|n| !n.symbol.is_empty()));
    }

    #[test]
    fn refuses_something_that_is_not_elf() {
        let err = check_glibc(b"#!/bin/sh\necho hi\n").unwrap_err();
        assert!(format!("{err:#}").contains("ELF"), "{err:#}");
    }
}
