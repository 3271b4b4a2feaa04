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

/// Runs install.sh the way action.yml does, with only the variables the runner would provide.
fn install(scratch: &Scratch, extra: &[(&str, &str)]) -> Run {
    let (os, arch, _) = host_platform();
    let github_output = scratch.path("temp/github_output");
    fs::write(&github_output, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("action/install.sh"))
        .env_clear()
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TOOL_CACHE", scratch.path("tool-cache"))
        .env("RUNNER_TEMP", scratch.path("temp"))
        .env(
            "GITHUB_ACTION_PATH",
            repo_root().join("tests/data/fixture-crate"),
        )
        .env("DTS_GATE_CHECKSUM_FILE", scratch.path("checksums.txt"))
        .env("GITHUB_OUTPUT", &github_output)
        .env("INPUT_VERSION", VERSION);
    // What cargo needs to find its toolchain for the source fallback.
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
    cmd.envs(extra.iter().copied());
    let output = cmd.output().expect("run bash");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        github_output: fs::read_to_string(&github_output).unwrap(),
        output,
    }
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
    let (base, hits) = serve(vec![(format!("/v{VERSION}/{}", asset_name()), archive)]);

    let first = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&first);
    assert_eq!(hits.connections(), 1);
    assert_eq!(first.output_value("source"), Some("download"));
    assert_eq!(first.output_value("version"), Some(VERSION));
    let bin = PathBuf::from(first.output_value("path").expect("path output"));
    let (_, _, target) = host_platform();
    assert_eq!(
        bin,
        scratch.path(&format!("tool-cache/dts-gate/{VERSION}/{target}/dts-gate"))
    );
    assert_eq!(run_version(&bin), "dts-gate 9.9.9");
    assert!(
        first.stdout.contains("in ") && first.stdout.contains("s\n"),
        "no timing: {}",
        first.stdout
    );

    let second = install(&scratch, &[("INPUT_DOWNLOAD_URL", &base)]);
    assert_success(&second);
    assert_eq!(hits.connections(), 1, "the second run must not download");
    assert_eq!(second.output_value("source"), Some("cache"));
    assert_eq!(second.output_value("path"), Some(bin.to_str().unwrap()));

    // A cached binary changed after verification is not trusted: it is fetched again.
    fs::write(&bin, "#!/bin/sh\necho evil\n").unwrap();
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
    assert_eq!(run_version(&bin), "dts-gate 9.9.9");
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
