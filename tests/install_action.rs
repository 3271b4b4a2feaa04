//! Tests of `action/install.sh`, the composite action's installer.
//!
//! Each test runs the script with `bash` and a cleared environment, so nothing from the machine
//! (or from a GitHub runner executing these tests) leaks in. Release archives are served by the
//! test kit's loopback responder; the source fallback builds the tiny crate in
//! `tests/data/fixture-crate`, offline and in seconds.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;

use common::http::{Reply, Responder, response};

const VERSION: &str = "9.9.9";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `RUNNER_OS`/`RUNNER_ARCH` pair GitHub would set on this machine, and the matching target.
fn host_platform() -> (&'static str, &'static str, &'static str) {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("Linux", "X64", "x86_64-unknown-linux-musl"),
        ("linux", "aarch64") => ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        ("macos", "x86_64") => ("macOS", "X64", "x86_64-apple-darwin"),
        ("macos", "aarch64") => ("macOS", "ARM64", "aarch64-apple-darwin"),
        other => panic!("install.sh tests need Linux or macOS on x86_64/aarch64, not {other:?}"),
    }
}

fn asset_name() -> String {
    format!("dts-gate-{VERSION}-{}.tar.gz", host_platform().2)
}

/// A scratch directory removed on drop; unique per test so tests can run in parallel.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("dts-gate-install-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for sub in ["tool-cache", "temp", "archive"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        Scratch(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Builds a release-shaped archive whose single `dts-gate` file is a script printing `says`.
fn make_archive(scratch: &Scratch, file_name: &str, says: &str) -> Vec<u8> {
    let stage = scratch.path(&format!("archive/{file_name}.d"));
    fs::create_dir_all(&stage).unwrap();
    let bin = stage.join("dts-gate");
    fs::write(&bin, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let out = scratch.path(&format!("archive/{file_name}"));
    let status = Command::new("tar")
        .env("COPYFILE_DISABLE", "1") // no AppleDouble files from macOS tar
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(&stage)
        .arg("dts-gate")
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");
    fs::read(out).unwrap()
}

fn sha256_hex(data: &[u8], scratch: &Scratch) -> String {
    let file = scratch.path("archive/to-hash");
    fs::write(&file, data).unwrap();
    let out = Command::new("sha256sum")
        .arg(&file)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(&file)
                .output()
        })
        .expect("sha256sum or shasum");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Serves `files` (URL path → body) over plain HTTP on loopback. Returns the base URL and the
/// server, whose connection count proves whether anything was downloaded.
fn serve(files: Vec<(String, Vec<u8>)>) -> (String, Responder) {
    let server = Responder::start(move |request| {
        let (status, body): (&str, &[u8]) = match files.iter().find(|(p, _)| *p == request.path) {
            Some((_, body)) => ("200 OK", body),
            None => ("404 Not Found", b"not found"),
        };
        Reply::Bytes(response(status, None, body))
    });
    (server.url(), server)
}

struct Run {
    output: Output,
    stdout: String,
    stderr: String,
    github_output: String,
}

impl Run {
    fn output_value(&self, name: &str) -> Option<&str> {
        self.github_output
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
    }
}

/// Where one run of install.sh keeps its state: the runner's directories and the action checkout.
struct Layout {
    tool_cache: PathBuf,
    temp: PathBuf,
    github_output: PathBuf,
    action_path: PathBuf,
    /// `DTS_GATE_CHECKSUM_FILE`, the test hook for the checksum list; `None` leaves it unset.
    checksum_file: Option<PathBuf>,
}

impl Layout {
    fn of(scratch: &Scratch) -> Self {
        Layout {
            tool_cache: scratch.path("tool-cache"),
            temp: scratch.path("temp"),
            github_output: scratch.path("temp/github_output"),
            action_path: repo_root().join("tests/data/fixture-crate"),
            checksum_file: Some(scratch.path("checksums.txt")),
        }
    }
}

/// Runs install.sh the way action.yml does, with only the variables the runner would provide.
fn install(scratch: &Scratch, extra: &[(&str, &str)]) -> Run {
    install_in(&Layout::of(scratch), extra)
}

fn install_in(layout: &Layout, extra: &[(&str, &str)]) -> Run {
    fs::write(&layout.github_output, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("action/install.sh"));
    runner_env(&mut cmd, layout);
    cmd.env("INPUT_VERSION", VERSION);
    cmd.envs(extra.iter().copied());
    finish_run(cmd, layout)
}

/// A cleared environment plus what the runner (and cargo, for the source fallback) provides.
fn runner_env(cmd: &mut Command, layout: &Layout) {
    let (os, arch, _) = host_platform();
    cmd.env_clear()
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TOOL_CACHE", &layout.tool_cache)
        .env("RUNNER_TEMP", &layout.temp)
        .env("GITHUB_ACTION_PATH", &layout.action_path)
        .env("GITHUB_OUTPUT", &layout.github_output);
    if let Some(file) = &layout.checksum_file {
        cmd.env("DTS_GATE_CHECKSUM_FILE", file);
    }
    for key in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
    ] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
}

fn finish_run(mut cmd: Command, layout: &Layout) -> Run {
    let output = cmd.output().expect("run bash");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        github_output: fs::read_to_string(&layout.github_output).unwrap_or_default(),
        output,
    }
}

/// Where the installer keeps the verified archive of this test's release.
fn cached_archive(scratch: &Scratch) -> PathBuf {
    let (_, _, target) = host_platform();
    scratch.path(&format!(
        "tool-cache/dts-gate/{VERSION}/{target}/{}",
        asset_name()
    ))
}

fn run_version(bin: &Path) -> String {
    let out = Command::new(bin).arg("--version").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn assert_success(run: &Run) {
    assert!(
        run.output.status.success(),
        "install.sh failed ({}):\nstdout:\n{}\nstderr:\n{}",
        run.output.status,
        run.stdout,
        run.stderr
    );
}

#[test]
fn download_with_matching_checksum_installs_and_is_cached() {
    let scratch = Scratch::new("download");
    let archive = make_archive(&scratch, &asset_name(), "dts-gate 9.9.9");
    let sha = sha256_hex(&archive, &scratch);
    // A decoy whose name starts with the asset's: an exact-name lookup must ignore it.
    let decoy = "0".repeat(64);
    fs::write(
        scratch.path("checksums.txt"),
        format!(
            "# comment\n{decoy}  {asset}.sig\n{sha}  {asset}\n",
            asset = asset_name()
        ),
    )
    .unwrap();
    let (base, hits) = serve(vec![(
        format!("/v{VERSION}/{}", asset_name()),
        archive.clone(),
    )]);

    let first = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&first);
    assert_eq!(hits.connections(), 1);
    assert_eq!(first.output_value("source"), Some("download"));
    assert_eq!(first.output_value("version"), Some(VERSION));
    let bin = PathBuf::from(first.output_value("path").expect("path output"));
    // The binary runs from this job's RUNNER_TEMP, never from the shared tool cache.
    assert!(
        bin.starts_with(scratch.path("temp")),
        "not in RUNNER_TEMP: {}",
        bin.display()
    );
    assert_eq!(run_version(&bin), "dts-gate 9.9.9");
    assert!(
        first.stdout.contains("in ") && first.stdout.contains("s\n"),
        "no timing: {}",
        first.stdout
    );
    let cached = cached_archive(&scratch);
    assert_eq!(
        fs::read(&cached).unwrap(),
        archive,
        "the cache keeps the verified archive"
    );

    let second = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&second);
    assert_eq!(hits.connections(), 1, "the second run must not download");
    assert_eq!(second.output_value("source"), Some("cache"));
    let second_bin = PathBuf::from(second.output_value("path").expect("path output"));
    assert!(second_bin.starts_with(scratch.path("temp")));
    assert_ne!(second_bin, bin, "each run gets its own copy");
    assert_eq!(run_version(&second_bin), "dts-gate 9.9.9");

    // A cached archive changed after verification is not trusted: it is fetched again.
    fs::write(&cached, b"not the archive").unwrap();
    let third = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&third);
    assert!(
        third
            .stderr
            .contains("does not match the committed checksum"),
        "{}",
        third.stderr
    );
    assert_eq!(hits.connections(), 2);
    assert_eq!(third.output_value("source"), Some("download"));
    let third_bin = PathBuf::from(third.output_value("path").expect("path output"));
    assert_eq!(run_version(&third_bin), "dts-gate 9.9.9");
    assert_eq!(
        fs::read(&cached).unwrap(),
        archive,
        "the cache entry is repaired"
    );
}

#[test]
fn tampered_archive_is_refused_and_nothing_is_installed() {
    let scratch = Scratch::new("tampered");
    let genuine = make_archive(&scratch, "genuine.tar.gz", "dts-gate 9.9.9");
    let tampered = make_archive(
        &scratch,
        "tampered.tar.gz",
        "dts-gate 9.9.9 with a surprise",
    );
    let sha = sha256_hex(&genuine, &scratch);
    fs::write(
        scratch.path("checksums.txt"),
        format!("{sha}  {}\n", asset_name()),
    )
    .unwrap();
    let (base, hits) = serve(vec![(format!("/v{VERSION}/{}", asset_name()), tampered)]);

    let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_eq!(run.output.status.code(), Some(1), "stderr: {}", run.stderr);
    assert_eq!(hits.connections(), 1);
    assert!(
        run.stderr.contains(&format!(
            "checksum mismatch for {}: expected {sha}",
            asset_name()
        )),
        "stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("refusing to install it"),
        "stderr: {}",
        run.stderr
    );
    assert!(
        !scratch.path("tool-cache/dts-gate").exists(),
        "something was cached"
    );
    assert_eq!(run.output_value("path"), None);
    assert!(
        !run.stdout.contains("building"),
        "must not fall back to a source build"
    );
}

#[test]
fn missing_checksum_entry_builds_from_source() {
    let scratch = Scratch::new("no-entry");
    // Entries for another version and platform only.
    fs::write(
        scratch.path("checksums.txt"),
        format!(
            "{}  dts-gate-1.0.0-x86_64-unknown-linux-musl.tar.gz\n",
            "a".repeat(64)
        ),
    )
    .unwrap();
    let (base, hits) = serve(vec![]);

    let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&run);
    assert_eq!(hits.connections(), 0, "nothing may be downloaded");
    assert!(
        run.stdout
            .contains(&format!("has no entry for {}", asset_name())),
        "stdout: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("cargo build --release --locked"),
        "stdout: {}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("version 9.9.9 was requested but the source at this ref is version 0.0.1")
    );
    assert_eq!(run.output_value("source"), Some("source"));
    assert_eq!(run.output_value("version"), Some("0.0.1"));
    let bin = PathBuf::from(run.output_value("path").expect("path output"));
    assert!(
        bin.starts_with(scratch.path("temp")),
        "built outside RUNNER_TEMP: {}",
        bin.display()
    );
    assert_eq!(run_version(&bin), "dts-gate 0.0.1 (fixture)");
    assert!(
        !scratch.path("tool-cache/dts-gate").exists(),
        "source builds are not cached"
    );
}

#[test]
fn build_from_source_input_skips_a_valid_download() {
    let scratch = Scratch::new("from-source");
    let archive = make_archive(&scratch, &asset_name(), "dts-gate 9.9.9");
    let sha = sha256_hex(&archive, &scratch);
    fs::write(
        scratch.path("checksums.txt"),
        format!("{sha}  {}\n", asset_name()),
    )
    .unwrap();
    let (base, hits) = serve(vec![(format!("/v{VERSION}/{}", asset_name()), archive)]);

    let run = install(
        &scratch,
        &[
            ("INPUT_DOWNLOAD_URL", &base),
            ("INPUT_BUILD_FROM_SOURCE", "true"),
            ("INPUT_VERSION", ""),
        ],
    );
    assert_success(&run);
    assert_eq!(hits.connections(), 0);
    assert!(
        run.stdout.contains("build-from-source is true"),
        "stdout: {}",
        run.stdout
    );
    // With no version input, the version is the source's: no mismatch warning.
    assert!(
        !run.stderr.contains("was requested"),
        "stderr: {}",
        run.stderr
    );
    let bin = PathBuf::from(run.output_value("path").expect("path output"));
    assert_eq!(run_version(&bin), "dts-gate 0.0.1 (fixture)");
}

#[test]
fn plain_http_is_refused_unless_loopback() {
    let scratch = Scratch::new("http");
    fs::write(
        scratch.path("checksums.txt"),
        format!("{}  {}\n", "b".repeat(64), asset_name()),
    )
    .unwrap();

    let run = install(
        &scratch,
        &[("INPUT_DOWNLOAD_URL", "http://mirror.example.com/releases")],
    );
    assert_eq!(run.output.status.code(), Some(1));
    assert!(
        run.stderr.contains("download-url must start with https://"),
        "stderr: {}",
        run.stderr
    );
    assert!(!scratch.path("tool-cache/dts-gate").exists());
}

#[test]
fn invalid_boolean_input_is_an_error() {
    let scratch = Scratch::new("bool");
    fs::write(scratch.path("checksums.txt"), "").unwrap();

    let run = install(&scratch, &[("INPUT_BUILD_FROM_SOURCE", "yes")]);
    assert_eq!(run.output.status.code(), Some(1));
    assert!(
        run.stderr
            .contains("input build-from-source must be true or false, got 'yes'"),
        "stderr: {}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// The tool cache is shared state: nothing in it is trusted without the committed hash.

/// A genuine release served on loopback, with the committed checksum list naming it.
struct Release {
    archive: Vec<u8>,
    base: String,
    hits: Responder,
}

fn genuine_release(scratch: &Scratch) -> Release {
    let archive = make_archive(scratch, &asset_name(), "dts-gate 9.9.9");
    let sha = sha256_hex(&archive, scratch);
    fs::write(
        scratch.path("checksums.txt"),
        format!("{sha}  {}\n", asset_name()),
    )
    .unwrap();
    let (base, hits) = serve(vec![(
        format!("/v{VERSION}/{}", asset_name()),
        archive.clone(),
    )]);
    Release {
        archive,
        base,
        hits,
    }
}

fn installed_bin(run: &Run) -> PathBuf {
    PathBuf::from(run.output_value("path").expect("path output"))
}

#[test]
fn a_swapped_cached_binary_with_a_rewritten_marker_is_never_run() {
    let scratch = Scratch::new("swapped");
    let release = genuine_release(&scratch);
    let first = install(&scratch, &[("INPUT_DOWNLOAD_URL", &release.base)]);
    assert_success(&first);

    // What another job on a self-hosted runner can do to a shared cache: swap every file the
    // installer keeps there and rewrite the marker so it vouches for the swap (this layout is
    // the one older installers trusted: <target>/dts-gate plus <target>.complete).
    let (_, _, target) = host_platform();
    let evil = b"#!/bin/sh\necho evil\n";
    let evil_archive = make_archive(&scratch, "evil.tar.gz", "evil");
    let cache_dir = scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}"));
    let genuine_sha = sha256_hex(&release.archive, &scratch);
    let evil_sha = sha256_hex(evil, &scratch);
    fs::write(cache_dir.join("dts-gate"), evil).unwrap();
    fs::set_permissions(
        cache_dir.join("dts-gate"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(
        scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}.complete")),
        format!("{genuine_sha} {evil_sha}\n"),
    )
    .unwrap();
    fs::write(cached_archive(&scratch), &evil_archive).unwrap();

    let second = install(&scratch, &[("INPUT_DOWNLOAD_URL", &release.base)]);
    assert_success(&second);
    let bin = installed_bin(&second);
    assert!(
        bin.starts_with(scratch.path("temp")),
        "the binary must run from RUNNER_TEMP, not the cache: {}",
        bin.display()
    );
    assert_eq!(
        run_version(&bin),
        "dts-gate 9.9.9",
        "the swapped binary was installed"
    );
    assert_eq!(second.output_value("source"), Some("download"));
    assert_eq!(
        release.hits.connections(),
        2,
        "re-downloaded after the check failed"
    );
    assert!(
        second
            .stderr
            .contains("does not match the committed checksum"),
        "{}",
        second.stderr
    );
}

/// A directory outside the cache that an attacker points cache paths at.
fn victim(scratch: &Scratch) -> PathBuf {
    let dir = scratch.path("victim");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("precious"), "keep me").unwrap();
    dir
}

fn assert_victim_untouched(dir: &Path) {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["precious"],
        "files appeared in the symlink's target"
    );
    assert_eq!(fs::read_to_string(dir.join("precious")).unwrap(), "keep me");
}

#[test]
fn a_symlinked_cache_directory_is_refused_and_its_target_untouched() {
    let scratch = Scratch::new("symlink-dir");
    let release = genuine_release(&scratch);
    let victim = victim(&scratch);
    let (_, _, target) = host_platform();
    let version_dir = scratch.path(&format!("tool-cache/dts-gate/{VERSION}"));
    fs::create_dir_all(&version_dir).unwrap();
    std::os::unix::fs::symlink(&victim, version_dir.join(target)).unwrap();

    let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &release.base)]);
    assert_success(&run);
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    assert_victim_untouched(&victim);
    let bin = installed_bin(&run);
    assert!(bin.starts_with(scratch.path("temp")), "{}", bin.display());
    assert_eq!(run_version(&bin), "dts-gate 9.9.9");

    // The same one level up: the tool's own directory is a link.
    let scratch = Scratch::new("symlink-top");
    let release = genuine_release(&scratch);
    let victim = self::victim(&scratch);
    std::os::unix::fs::symlink(&victim, scratch.path("tool-cache/dts-gate")).unwrap();
    let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &release.base)]);
    assert_success(&run);
    assert_victim_untouched(&victim);
}

#[test]
fn symlinked_cache_files_are_refused_and_their_targets_untouched() {
    let scratch = Scratch::new("symlink-file");
    let release = genuine_release(&scratch);
    let victim = victim(&scratch);
    let (_, _, target) = host_platform();
    let cache_dir = scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}"));
    fs::create_dir_all(&cache_dir).unwrap();
    let precious = victim.join("precious");
    // The marker older installers wrote, and the archive this one keeps.
    std::os::unix::fs::symlink(
        &precious,
        scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}.complete")),
    )
    .unwrap();
    std::os::unix::fs::symlink(&precious, cache_dir.join(asset_name())).unwrap();
    std::os::unix::fs::symlink(&precious, cache_dir.join("dts-gate")).unwrap();

    let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &release.base)]);
    assert_success(&run);
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    assert_victim_untouched(&victim);
    assert_eq!(run_version(&installed_bin(&run)), "dts-gate 9.9.9");
}

/// A directory for RUNNER_TEMP on another file system than the tool cache (under /tmp), when
/// the machine has one (/dev/shm is tmpfs on Linux); else a sibling directory.
fn other_filesystem_dir(scratch: &Scratch, name: &str) -> (PathBuf, bool) {
    use std::os::unix::fs::MetadataExt;
    let shm = Path::new("/dev/shm");
    if let (Ok(a), Ok(b)) = (fs::metadata(shm), fs::metadata(&scratch.0))
        && a.is_dir()
        && a.dev() != b.dev()
    {
        let dir = shm.join(format!("dts-gate-install-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        if fs::create_dir_all(&dir).is_ok() {
            return (dir, true);
        }
    }
    let dir = scratch.path(name);
    fs::create_dir_all(&dir).unwrap();
    (dir, false)
}

#[test]
fn concurrent_installs_all_succeed_with_the_cache_on_another_file_system() {
    const JOBS: usize = 20;
    let scratch = Scratch::new("concurrent");
    let release = genuine_release(&scratch);
    let (temp_root, _separate) = other_filesystem_dir(&scratch, "concurrent-temp");
    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = RemoveOnDrop(temp_root.clone());

    // Round 1 starts from an empty cache (every job downloads and stores); round 2 starts from a
    // corrupted entry (every job rejects it, downloads and replaces it while the others read it).
    for round in 1..=2 {
        if round == 2 {
            fs::write(cached_archive(&scratch), b"corrupt").unwrap();
        }
        let runs: Vec<Run> = thread::scope(|s| {
            let handles: Vec<_> = (0..JOBS)
                .map(|i| {
                    let temp = temp_root.join(format!("r{round}-job{i}"));
                    fs::create_dir_all(&temp).unwrap();
                    let layout = Layout {
                        github_output: temp.join("github_output"),
                        temp,
                        ..Layout::of(&scratch)
                    };
                    let base = release.base.clone();
                    s.spawn(move || install_in(&layout, &[("INPUT_DOWNLOAD_URL", &base)]))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut paths = std::collections::HashSet::new();
        for run in &runs {
            assert_success(run);
            let bin = installed_bin(run);
            assert!(
                bin.starts_with(&temp_root),
                "round {round}: {}",
                bin.display()
            );
            assert_eq!(run_version(&bin), "dts-gate 9.9.9");
            assert!(paths.insert(bin), "two jobs got the same binary");
        }
        assert_eq!(fs::read(cached_archive(&scratch)).unwrap(), release.archive);
    }
    // Nothing half-written is left behind in the cache.
    let (_, _, target) = host_platform();
    let leftovers: Vec<_> =
        fs::read_dir(scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}")))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_str() != Some(asset_name().as_str()))
            .collect();
    assert!(leftovers.is_empty(), "left in the cache: {leftovers:?}");
}

// ---------------------------------------------------------------------------------------------
// Running action.yml's steps the way the runner does.

/// One step of action.yml's `runs.steps`, as far as these tests need it.
#[derive(Debug, Default)]
struct Step {
    id: String,
    shell: String,
    env: Vec<(String, String)>,
    run: String,
}

/// A scalar as YAML writes it here: plain, 'single-quoted' or "double-quoted" (no escapes used).
fn yaml_scalar(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        inner.to_owned()
    } else {
        raw.to_owned()
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Reads `runs.steps` of action.yml with the small subset of YAML the file uses: each step a
/// `- key: value` mapping with `env:` a mapping and `run:` a plain scalar or a `|` block.
fn action_steps() -> Vec<Step> {
    let text = fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let runs = lines.iter().position(|l| *l == "runs:").expect("runs:");
    let steps_at = (runs..lines.len())
        .find(|&i| lines[i].trim() == "steps:")
        .expect("runs.steps");
    let item_indent = indent_of(lines[steps_at]) + 2;
    let key_indent = item_indent + 2;
    let mut steps: Vec<Step> = Vec::new();
    let mut i = steps_at + 1;
    while i < lines.len() {
        let line = lines[i];
        if !line.trim().is_empty() && indent_of(line) < item_indent {
            break;
        }
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            i += 1;
            continue;
        }
        let mut rest = content;
        if indent_of(line) == item_indent {
            rest = content.strip_prefix("- ").expect("a step item");
            steps.push(Step::default());
        }
        assert!(indent_of(line) <= key_indent, "unexpected line {line:?}");
        let step = steps.last_mut().expect("a step");
        let (key, value) = rest.split_once(':').expect("key: value");
        let value = value.trim();
        i += 1;
        match key {
            "id" => step.id = yaml_scalar(value),
            "shell" => step.shell = yaml_scalar(value),
            "env" => {
                while i < lines.len()
                    && (lines[i].trim().is_empty() || indent_of(lines[i]) > key_indent)
                {
                    let entry = lines[i].trim();
                    if !entry.is_empty() && !entry.starts_with('#') {
                        let (k, v) = entry.split_once(':').expect("NAME: value");
                        step.env.push((k.to_owned(), yaml_scalar(v)));
                    }
                    i += 1;
                }
            }
            "run" if value == "|" => {
                let mut block: Vec<&str> = Vec::new();
                while i < lines.len()
                    && (lines[i].trim().is_empty() || indent_of(lines[i]) > key_indent)
                {
                    block.push(lines[i]);
                    i += 1;
                }
                while block.last().is_some_and(|l| l.trim().is_empty()) {
                    block.pop();
                }
                let strip = block.iter().map(|l| indent_of(l)).next().unwrap_or(0);
                step.run = block
                    .iter()
                    .map(|l| l.get(strip..).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n";
            }
            "run" => step.run = yaml_scalar(value),
            _ => {}
        }
    }
    steps
}

fn action_step(id: &str) -> Step {
    action_steps()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("action.yml has no step with id {id}"))
}

/// Evaluates a step's env value: a literal, or one `${{ a || b }}` expression over `inputs.*`
/// and `env.*` (what action.yml uses). Anything else is a test failure, not a silent guess.
fn evaluate(value: &str, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> String {
    let Some(expr) = value
        .trim()
        .strip_prefix("${{")
        .and_then(|v| v.strip_suffix("}}"))
    else {
        assert!(!value.contains("${{"), "unsupported expression {value:?}");
        return value.to_owned();
    };
    for operand in expr.split("||").map(str::trim) {
        let found = if let Some(name) = operand.strip_prefix("inputs.") {
            inputs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        } else if let Some(name) = operand.strip_prefix("env.") {
            env.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        } else if operand.starts_with("steps.") {
            None
        } else {
            panic!("unsupported operand {operand:?} in {value:?}")
        };
        if let Some(v) = found.filter(|v| !v.is_empty()) {
            return v.to_owned();
        }
    }
    String::new()
}

/// Runs a bash step from action.yml as the runner does: the job's environment (`inherited`,
/// with GITHUB_ACTIONS=true) plus the step's evaluated env, and `run:` written to a script file
/// executed with `bash --noprofile --norc -e -o pipefail <file>`.
fn run_step(
    step: &Step,
    layout: &Layout,
    inputs: &[(&str, &str)],
    inherited: &[(&str, &str)],
) -> Run {
    assert_eq!(step.shell, "bash", "step {} must use shell: bash", step.id);
    let script = layout.temp.join(format!("step-{}.sh", step.id));
    fs::write(&script, &step.run).unwrap();
    fs::write(&layout.github_output, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
        .arg(&script)
        .current_dir(&layout.temp);
    runner_env(&mut cmd, layout);
    cmd.env("GITHUB_ACTIONS", "true");
    cmd.envs(inherited.iter().copied());
    for (key, value) in &step.env {
        cmd.env(key, evaluate(value, inputs, inherited));
    }
    finish_run(cmd, layout)
}

/// A stand-in for the action's checkout: install.sh, a Cargo.toml and a committed checksum list.
fn action_checkout(scratch: &Scratch, checksums: &str) -> PathBuf {
    let dir = scratch.path("action-checkout");
    fs::create_dir_all(dir.join("action")).unwrap();
    fs::copy(
        repo_root().join("action/install.sh"),
        dir.join("action/install.sh"),
    )
    .unwrap();
    fs::copy(
        repo_root().join("tests/data/fixture-crate/Cargo.toml"),
        dir.join("Cargo.toml"),
    )
    .unwrap();
    fs::write(dir.join("action/checksums.txt"), checksums).unwrap();
    dir
}

/// Every line the runner would take as a workflow command (after trimming leading whitespace,
/// a line starting with `::` or the legacy `##[`).
fn workflow_commands(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .chain(run.stderr.lines())
        .map(str::trim_start)
        .filter(|l| l.starts_with("::") || l.starts_with("##["))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Input checks.

#[test]
fn download_urls_with_userinfo_are_refused() {
    let scratch = Scratch::new("userinfo");
    let release = genuine_release(&scratch);
    let port = release.base.rsplit(':').next().unwrap().to_owned();
    for url in [
        // Looks like loopback, goes to the host after '@' (here one that would even answer).
        format!("http://127.0.0.1:1@127.0.0.1:{port}"),
        "http://127.0.0.1:x@evil.example".to_owned(),
        "http://localhost@evil.example/releases".to_owned(),
        "https://user:password@github.com/dts-gate/dts-gate/releases/download".to_owned(),
    ] {
        let run = install(&scratch, &[("INPUT_DOWNLOAD_URL", &url)]);
        assert_eq!(run.output.status.code(), Some(1), "{url}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("must not contain a user name or password"),
            "{url}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("downloading"), "{url}: {}", run.stdout);
    }
    assert_eq!(release.hits.connections(), 0, "nothing may be fetched");
}

#[test]
fn an_inherited_checksum_file_is_ignored_when_running_as_the_action() {
    let scratch = Scratch::new("inherited-list");
    let genuine = make_archive(&scratch, "genuine.tar.gz", "dts-gate 9.9.9");
    let evil = make_archive(&scratch, "evil.tar.gz", "evil");
    let committed = format!("{}  {}\n", sha256_hex(&genuine, &scratch), asset_name());
    let checkout = action_checkout(&scratch, &committed);
    // A list that vouches for the evil archive, left in the job's environment.
    let planted = scratch.path("planted-checksums.txt");
    fs::write(
        &planted,
        format!("{}  {}\n", sha256_hex(&evil, &scratch), asset_name()),
    )
    .unwrap();
    let (base, _) = serve(vec![(format!("/v{VERSION}/{}", asset_name()), evil)]);
    let layout = Layout {
        action_path: checkout,
        checksum_file: None,
        ..Layout::of(&scratch)
    };
    let planted = planted.to_str().unwrap();

    // The install step exactly as action.yml defines it.
    let step = action_step("install");
    assert!(
        step.env
            .iter()
            .any(|(k, v)| k == "DTS_GATE_CHECKSUM_FILE" && v.is_empty()),
        "the install step must blank DTS_GATE_CHECKSUM_FILE: {:?}",
        step.env
    );
    let inputs = [("version", VERSION), ("download-url", base.as_str())];
    let run = run_step(
        &step,
        &layout,
        &inputs,
        &[("DTS_GATE_CHECKSUM_FILE", planted)],
    );
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
    assert_eq!(run.output_value("path"), None);

    // And install.sh on its own, with the variable set in its environment, on GitHub.
    let run = install_in(
        &Layout {
            checksum_file: Some(PathBuf::from(planted)),
            ..layout
        },
        &[("INPUT_DOWNLOAD_URL", &base), ("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains("ignoring DTS_GATE_CHECKSUM_FILE"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
}

#[test]
fn a_newline_in_an_input_cannot_start_a_workflow_command() {
    let scratch = Scratch::new("inject");
    let release = genuine_release(&scratch);
    let committed = fs::read_to_string(scratch.path("checksums.txt")).unwrap();
    let layout = Layout {
        action_path: action_checkout(&scratch, &committed),
        checksum_file: None,
        ..Layout::of(&scratch)
    };
    let payload = "\n::error title=injected::owned\r\n##[error]owned";
    let bad_bool = format!("yes{payload}");
    let bad_version = format!("{VERSION}{payload}");
    let bad_url = format!("{}/{payload}", release.base);
    for (name, value) in [
        ("INPUT_BUILD_FROM_SOURCE", bad_bool.as_str()),
        ("INPUT_VERSION", bad_version.as_str()),
        ("INPUT_DOWNLOAD_URL", bad_url.as_str()),
    ] {
        let run = install_in(&layout, &[(name, value), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(run.output.status.code(), Some(1), "{name}: {}", run.stderr);
        let commands = workflow_commands(&run);
        assert_eq!(
            commands.len(),
            1,
            "{name}: expected only the installer's own error, got {commands:#?}"
        );
        assert!(
            commands[0].starts_with("::error title=dts-gate install::"),
            "{name}: {commands:?}"
        );
        // The runner unescapes %0A back into the newline: the value is shown, not obeyed.
        assert!(
            commands[0].contains("%0A::error title=injected::owned%0D%0A##[error]owned"),
            "{name}: {commands:?}"
        );
        assert_eq!(run.output_value("path"), None);
    }
    assert_eq!(release.hits.connections(), 0);

    // Off GitHub the same values stay on one log line.
    let run = install_in(&layout, &[("INPUT_BUILD_FROM_SOURCE", &bad_bool)]);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// The masking step.

fn run_mask_step(scratch: &Scratch, inputs: &[(&str, &str)], inherited: &[(&str, &str)]) -> Run {
    let steps = action_steps();
    let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids.first().copied(),
        Some("mask"),
        "masking must be the first step: {ids:?}"
    );
    let step = &steps[0];
    assert!(
        !step.run.contains("${{"),
        "values must reach the script only through env, not ${{{{ }}}} in run:\n{}",
        step.run
    );
    for input in ["secret-key", "token"] {
        assert!(
            step.env
                .iter()
                .any(|(_, v)| v.replace(' ', "") == format!("${{{{inputs.{input}}}}}")),
            "the mask step must receive inputs.{input} through env: {:?}",
            step.env
        );
    }
    let layout = Layout {
        checksum_file: None,
        ..Layout::of(scratch)
    };
    run_step(step, &layout, inputs, inherited)
}

#[test]
fn the_mask_step_masks_each_line_of_secret_key_and_token_and_prints_nothing_else() {
    let scratch = Scratch::new("mask");
    // Multi-line, CRLF, blank and whitespace-only lines, padding, a literal %0A (the runner would
    // unescape it), and shell syntax that must stay data.
    let secret_key = "  first-line\r\nsecond line \n\n \t\n%0Aodd'$(touch pwned)`touch pwned2`\n";
    let token = "tok\nen";
    let run = run_mask_step(
        &scratch,
        &[("secret-key", secret_key), ("token", token)],
        &[],
    );
    assert_success(&run);
    assert_eq!(
        run.stdout,
        "::add-mask::first-line\n\
         ::add-mask::second line\n\
         ::add-mask::%250Aodd'$(touch pwned)`touch pwned2`\n\
         ::add-mask::tok\n\
         ::add-mask::en\n"
    );
    assert_eq!(run.stderr, "");
    for name in ["pwned", "pwned2"] {
        assert!(!scratch.path(name).exists() && !scratch.path(&format!("temp/{name}")).exists());
        assert!(!repo_root().join(name).exists());
    }

    // Empty inputs mask nothing (the runner warns about an empty ::add-mask::).
    let run = run_mask_step(&scratch, &[("secret-key", ""), ("token", "")], &[]);
    assert_success(&run);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));

    // The job's own credentials, which the gate step falls back to, are masked too.
    let run = run_mask_step(
        &scratch,
        &[],
        &[
            ("TENCENTCLOUD_SECRET_KEY", "job-key"),
            ("TENCENTCLOUD_TOKEN", "job-token\nline2"),
            ("TENCENTCLOUD_SECURITY_TOKEN", "job-security-token"),
        ],
    );
    assert_success(&run);
    assert_eq!(
        run.stdout,
        "::add-mask::job-key\n::add-mask::job-token\n::add-mask::line2\n::add-mask::job-security-token\n"
    );
    assert_eq!(run.stderr, "");
}

// ---------------------------------------------------------------------------------------------
// The release workflow's scripts, run against local stand-ins.

/// The `run: |` script of the step named `name` in a workflow file.
fn workflow_step_script(workflow: &str, name: &str) -> String {
    let text = fs::read_to_string(repo_root().join(workflow)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("{workflow} has no step named {name:?}"));
    let item_indent = indent_of(lines[start]);
    let mut i = start + 1;
    while i < lines.len() {
        let l = lines[i];
        if !l.trim().is_empty() && indent_of(l) <= item_indent {
            break;
        }
        if l.trim() == "run: |" {
            let run_indent = indent_of(l);
            let block: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|b| b.trim().is_empty() || indent_of(b) > run_indent)
                .copied()
                .collect();
            let strip = block.iter().map(|b| indent_of(b)).next().unwrap_or(0);
            return block
                .iter()
                .map(|b| b.get(strip..).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n";
        }
        i += 1;
    }
    panic!("step {name:?} in {workflow} has no run: | script");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_release_publishes_only_tags_on_the_default_branch() {
    let script = workflow_step_script(
        ".github/workflows/release.yml",
        "Tagged commit is on the default branch",
    );
    let scratch = Scratch::new("release-branch");
    let origin = scratch.path("origin");
    fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q"]);
    git(&origin, &["commit", "-q", "--allow-empty", "-m", "on main"]);
    git(&origin, &["switch", "-q", "-c", "side"]);
    git(
        &origin,
        &["commit", "-q", "--allow-empty", "-m", "not reviewed"],
    );
    git(&origin, &["tag", "-a", "v9.9.9", "-m", "side"]);
    git(&origin, &["tag", "-a", "v9.9.8", "-m", "main", "main"]);
    // What actions/checkout with fetch-depth: 0 leaves: every branch as origin/*, HEAD detached
    // at the tagged commit.
    let checkout = scratch.path("checkout");
    git(
        &scratch.0,
        &["clone", "-q", origin.to_str().unwrap(), "checkout"],
    );
    let run = |tag: &str| {
        git(&checkout, &["checkout", "-q", "--detach", tag]);
        Command::new("bash")
            .args([
                "--noprofile",
                "--norc",
                "-e",
                "-o",
                "pipefail",
                "-c",
                &script,
            ])
            .current_dir(&checkout)
            .env("TAG", tag)
            .env("DEFAULT_BRANCH", "main")
            .env("GITHUB_SHA", git(&checkout, &["rev-parse", "HEAD"]))
            .output()
            .unwrap()
    };
    let off_main = run("v9.9.9");
    assert!(
        !off_main.status.success(),
        "a tag off main must not release"
    );
    assert!(
        String::from_utf8_lossy(&off_main.stdout).contains("is not on main"),
        "{}",
        String::from_utf8_lossy(&off_main.stdout)
    );
    let on_main = run("v9.9.8");
    assert!(
        on_main.status.success(),
        "{}",
        String::from_utf8_lossy(&on_main.stdout)
    );
}

#[test]
fn the_release_never_puts_the_token_on_gits_command_line() {
    // The release runs on ubuntu, whose GNU base64 has -w0, as this machine's does.
    assert!(
        Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success()),
        "this test needs GNU coreutils' base64 (-w0)"
    );
    let script = workflow_step_script(
        ".github/workflows/release.yml",
        "Push the checksum commit and move the major tag",
    );
    let scratch = Scratch::new("release-token");
    // A git that records its arguments and the credential configuration it was given.
    let bin = scratch.path("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = scratch.path("git.log");
    fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\nprintf 'argv:%s\\n' \"$*\" >>'{log}'\n\
             printf 'env:%s=%s\\n' \"${{GIT_CONFIG_KEY_0:-}}\" \"${{GIT_CONFIG_VALUE_0:-}}\" >>'{log}'\n\
             [ \"$1\" = rev-parse ] && echo 0123456789abcdef0123456789abcdef01234567\nexit 0\n",
            log = log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(bin.join("git"), fs::Permissions::from_mode(0o755)).unwrap();
    let token = "ghs_notarealtoken0123456789";
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            &script,
        ])
        .env_clear()
        .env("PATH", path)
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("VERSION", "9.9.9")
        .env("TAG", "v9.9.9")
        .env("GITHUB_STEP_SUMMARY", scratch.path("summary.md"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = fs::read_to_string(&log).unwrap();
    let basic = {
        let o = Command::new("sh")
            .args(["-c", "printf 'x-access-token:%s' \"$T\" | base64 -w0"])
            .env("T", token)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    let argv: Vec<&str> = recorded
        .lines()
        .filter(|l| l.starts_with("argv:"))
        .collect();
    assert!(argv.iter().any(|l| l.contains("push")), "{recorded}");
    for line in &argv {
        assert!(
            !line.contains(token) && !line.contains(&basic),
            "credential on git's command line: {line}"
        );
    }
    assert!(
        recorded.contains(&format!(
            "env:http.https://github.com/.extraheader=AUTHORIZATION: basic {basic}"
        )),
        "git did not get the credential through GIT_CONFIG_*: {recorded}"
    );
    // The encoded credential is registered as a secret before use.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("::add-mask::{basic}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn release_images_and_toolchain_are_pinned_and_provenance_is_attested() {
    let release = fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    assert!(
        !release.contains("toolchain install stable") && !release.contains("default stable"),
        "the release must build with a pinned toolchain"
    );
    let toolchain = release
        .lines()
        .find_map(|l| l.trim().strip_prefix("RUST_TOOLCHAIN: "))
        .expect("RUST_TOOLCHAIN");
    assert!(
        toolchain.split('.').count() == 3 && toolchain.split('.').all(|p| p.parse::<u32>().is_ok()),
        "RUST_TOOLCHAIN must be an exact version, got {toolchain}"
    );
    let buildkit = release
        .lines()
        .find_map(|l| l.trim().strip_prefix("BUILDKIT_IMAGE: "))
        .expect("BUILDKIT_IMAGE");
    assert!(
        buildkit.starts_with("moby/buildkit:v") && is_digest_pinned(buildkit),
        "{buildkit}"
    );
    assert!(release.contains("--driver-opt \"image=$BUILDKIT_IMAGE\""));
    let attests: Vec<&str> = release
        .lines()
        .filter(|l| l.contains("uses: actions/attest-build-provenance@"))
        .collect();
    assert_eq!(attests.len(), 2, "archives and image: {attests:?}");
    assert!(release.contains("subject-path: dist/dts-gate-*.tar.gz"));
    assert!(release.contains("subject-digest: ${{ steps.push.outputs.digest }}"));
    // The Dockerfile's bases are pinned by digest, and the release toolchain matches its rust: tag.
    let dockerfile = fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .filter(|l| !l.starts_with("runtime ") && !l.starts_with("build "))
        .collect();
    assert!(froms.len() >= 2, "{froms:?}");
    for from in &froms {
        assert!(
            is_digest_pinned(from.split_whitespace().next().unwrap()),
            "{from}"
        );
    }
    assert!(
        froms
            .iter()
            .any(|f| f.starts_with(&format!("rust:{toolchain}-"))),
        "RUST_TOOLCHAIN {toolchain} differs from the Dockerfile's rust: tag: {froms:?}"
    );
}

fn is_digest_pinned(image: &str) -> bool {
    image.split_once("@sha256:").is_some_and(|(name, digest)| {
        name.contains(':')
            && digest.len() == 64
            && digest
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}
