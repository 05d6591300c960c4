//! What `boulder build` prints and refuses, end to end through the real
//! binary in real build roots imported from the host (skipped without
//! dpkg, failing under CI):
//!
//! * output for people: by default a phase shows its header and the
//!   recipe's own commands, the traced prologue goes to the log only; `-v`
//!   shows it too; `-q` prints the summary alone; a reader that goes away
//!   ends boulder by SIGPIPE, not by a panic;
//! * packages that cannot come out wrong: an empty install root, files
//!   outside `/usr`, files under `/usr/local` fail naming the files and the
//!   fix; a subpackage that got nothing is reported;
//! * `--verify` fails when a rebuilt package gains or changes a file.

use crate::common;

use common::{cache_dir, have_dpkg, workspace};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use test_support::text;

fn boulder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir())
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("boulder runs")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A copy of `recipes-example/hello` whose recipe is edited by `edit`.
fn hello_copy(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = workspace().join("recipes-example/hello");
    fs::create_dir_all(dir.path().join("pkg")).expect("pkg dir");
    for name in ["Makefile", "hello.c"] {
        fs::copy(
            from.join("pkg").join(name),
            dir.path().join("pkg").join(name),
        )
        .expect("copy");
    }
    let recipe = fs::read_to_string(from.join("stone.yaml")).expect("recipe");
    fs::write(dir.path().join("stone.yaml"), edit(&recipe)).expect("write recipe");
    dir
}

/// Replaces the recipe's `install` phase with `body` (one line).
fn with_install(recipe: &str, body: &str) -> String {
    let original = "install     : |\n    %make_install PREFIX=%(prefix)\n";
    assert!(
        recipe.contains(original),
        "the hello recipe changed:\n{recipe}"
    );
    recipe.replace(original, &format!("install     : |\n    {body}\n"))
}

/// Runs `boulder build` of `recipe` into a fresh directory with `extra`.
fn build(recipe: &Path, extra: &[&str]) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["build", path_str(recipe), "-o", path_str(out.path())];
    args.extend_from_slice(extra);
    let output = boulder(&args);
    (out, output)
}

fn built(recipe: &Path, extra: &[&str]) -> (tempfile::TempDir, String) {
    let (out, output) = build(recipe, extra);
    assert!(
        output.status.success(),
        "building {} failed\nstdout:\n{}\nstderr:\n{}",
        recipe.display(),
        text(&output.stdout),
        text(&output.stderr)
    );
    (out, text(&output.stdout))
}

/// The build log named on the last lines of a default build.
fn log_of(stdout: &str) -> PathBuf {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("build log: "))
        .unwrap_or_else(|| panic!("no build log line in:\n{stdout}"));
    PathBuf::from(line)
}

/// The prologue lines of every phase in a build log: the lines of a phase
/// before its `##boulder-recipe-commands` marker, as `(phase, line)`.
fn prologue_lines(log: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(log).expect("build log");
    let mut prologue = Vec::new();
    let mut current: Option<String> = None;
    let mut in_prologue = false;
    for line in text.lines() {
        let Some((tag, rest)) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .or_else(|| line.strip_prefix('[').and_then(|l| l.split_once(']')))
        else {
            continue;
        };
        if current.as_deref() != Some(tag) {
            current = Some(tag.to_string());
            in_prologue = true;
        }
        if rest == "##boulder-recipe-commands" {
            in_prologue = false;
        } else if in_prologue {
            prologue.push((tag.to_string(), rest.to_string()));
        }
    }
    prologue
}

fn phase_line(phase: &str, line: &str) -> String {
    format!("{phase:>7} │ {line}")
}

#[test]
fn default_output_holds_the_recipe_commands_verbose_all_quiet_the_summary() {
    if !have_dpkg() {
        return;
    }
    let recipe = workspace().join("recipes-example/hello");
    let (_out, normal) = built(&recipe, &[]);
    let prologue = prologue_lines(&log_of(&normal));
    assert!(
        prologue.len() > 20,
        "the log keeps the traced prologue of every phase: {prologue:?}"
    );
    for (phase, line) in &prologue {
        assert!(
            !normal.contains(&phase_line(phase, line)),
            "default output shows the prologue line `{line}`:\n{normal}"
        );
    }
    for wanted in [
        "» Phase build (x86_64, recipe line 17)",
        "  build │ + make VERBOSE=1 -j",
        "install │ + make VERBOSE=1 -j",
    ] {
        assert!(normal.contains(wanted), "`{wanted}` missing:\n{normal}");
    }
    assert!(
        !normal.contains("\x1b["),
        "no colour without a terminal:\n{normal}"
    );

    let (_out, verbose) = built(&recipe, &["-v"]);
    let verbose_prologue = prologue_lines(&log_of(&verbose));
    for (phase, line) in &verbose_prologue {
        assert!(
            verbose.contains(&phase_line(phase, line)),
            "-v lacks the prologue line `{line}`:\n{verbose}"
        );
    }
    let shown = |out: &str| out.lines().filter(|l| l.contains(" │ ")).count();
    assert!(
        shown(&verbose) >= shown(&normal) + verbose_prologue.len(),
        "-v shows every phase line ({} vs {} + {})",
        shown(&verbose),
        shown(&normal),
        verbose_prologue.len()
    );

    let (out, quiet) = built(&recipe, &["-q"]);
    let lines: Vec<&str> = quiet.lines().collect();
    assert_eq!(lines.len(), 1, "-q prints the summary alone:\n{quiet}");
    assert!(
        lines[0].starts_with("built 2 stone(s) in ")
            && lines[0].contains("hello-1.0.0-1-1-x86_64.stone")
            && lines[0].contains(path_str(out.path())),
        "{quiet}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_boulder_by_sigpipe_not_a_panic() {
    if !have_dpkg() {
        return;
    }
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let out = tempfile::tempdir().expect("tempdir");
    let recipe = workspace().join("recipes-example/hello");
    let mut child = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["build", "--cache-dir", path_str(&cache_dir())])
        .arg(&recipe)
        .arg("-o")
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("boulder runs");
    // Read the first line, then close the pipe as `| head -1` does.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    let mut line = Vec::new();
    while stdout.read(&mut first).expect("read") == 1 && first[0] != b'\n' {
        line.push(first[0]);
    }
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(text(&line), "» Checking the recipe");
    assert_eq!(
        status.signal(),
        Some(libc::SIGPIPE),
        "{status:?}; stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Builds a hello copy whose install step is `body`; returns stdout and
/// stderr of the failed build.
fn refused(body: &str) -> String {
    let recipe = hello_copy(|r| with_install(r, body));
    let (out, output) = build(recipe.path(), &[]);
    assert!(
        !output.status.success(),
        "installing with `{body}` must fail\n{}",
        text(&output.stdout)
    );
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    let stones = fs::read_dir(out.path()).expect("out").count();
    assert_eq!(stones, 0, "nothing is written:\n{said}");
    said
}

#[test]
fn an_install_step_that_installs_nothing_fails_with_the_fix() {
    if !have_dpkg() {
        return;
    }
    // Installed, but somewhere else than the install root.
    let said = refused("make install DESTDIR=/tmp/elsewhere PREFIX=%(prefix)");
    assert!(
        said.contains("the install phase installed nothing"),
        "{said}"
    );
    assert!(said.contains("DESTDIR=\"%(installroot)\""), "{said}");
}

#[test]
fn files_outside_usr_fail_naming_them_and_the_fix() {
    if !have_dpkg() {
        return;
    }
    let said = refused("%make_install PREFIX=/opt/hello");
    assert!(
        said.contains("1 installed file(s) outside /usr")
            && said.contains("  /opt/hello/bin/hello"),
        "{said}"
    );
    assert!(said.contains("PREFIX=%(prefix)"), "{said}");
}

#[test]
fn files_under_usr_local_fail_naming_them_and_the_fix() {
    if !have_dpkg() {
        return;
    }
    // The Makefile's own default prefix is /usr/local.
    let said = refused("%make_install");
    assert!(
        said.contains("1 installed file(s) under /usr/local")
            && said.contains("  /usr/local/bin/hello"),
        "{said}"
    );
    assert!(said.contains("--prefix=%(prefix)"), "{said}");
}

#[test]
fn a_subpackage_that_got_nothing_is_reported() {
    if !have_dpkg() {
        return;
    }
    let recipe = hello_copy(|r| {
        format!("{r}packages    :\n    - \"%(name)-extras\":\n        summary: Nothing\n        paths:\n            - /usr/share/hello-extras\n")
    });
    let (_out, stdout) = built(recipe.path(), &[]);
    assert!(
        stdout.contains("warning: package(s) `hello-extras` of the recipe got no file"),
        "{stdout}"
    );
}

#[test]
fn verify_fails_when_a_rebuilt_package_gains_or_changes_a_file() {
    if !have_dpkg() {
        return;
    }
    let recipe = workspace().join("recipes-example/hello");
    let (first, _) = built(&recipe, &[]);
    let manifest = first.path().join("manifest.x86_64.bin");
    let manifest = path_str(&manifest).to_string();

    // The same recipe verifies: metadata, file lists and file contents.
    let (_again, said) = built(&recipe, &["--verify", &manifest]);
    assert!(
        said.contains("verified: metadata")
            && said.contains("file lists")
            && said.contains("of 2 stone(s) match"),
        "{said}"
    );

    // A rebuild that installs one more file.
    let gained = hello_copy(|r| {
        with_install(
            r,
            "%make_install PREFIX=%(prefix) && install -Dm00644 Makefile %(installroot)%(datadir)/hello/Makefile",
        )
    });
    let (_out, output) = build(gained.path(), &["--verify", &manifest]);
    let said = text(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("the rebuild differs from the earlier build")
            && said.contains("hello: gained /usr/share/hello/Makefile"),
        "{said}"
    );

    // A rebuild whose program prints something else.
    let changed = hello_copy(|r| r.to_string());
    let source = changed.path().join("pkg/hello.c");
    let program = fs::read_to_string(&source).expect("hello.c");
    assert!(program.contains("Hello, world"), "{program}");
    fs::write(
        &source,
        program.replace("Hello, world", "Hello, world, again"),
    )
    .expect("edit");
    let (_out, output) = build(changed.path(), &["--verify", &manifest]);
    let said = text(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("hello: /usr/bin/hello: content changed"),
        "{said}"
    );
}

#[test]
fn a_local_archive_named_by_a_path_relative_to_the_recipe_builds() {
    if !have_dpkg() {
        return;
    }
    let recipe = hello_copy(|r| r.to_string());
    let made = Command::new("tar")
        .arg("-czf")
        .arg(recipe.path().join("hello-src.tar.gz"))
        .arg("-C")
        .arg(recipe.path())
        .arg("pkg")
        .status()
        .expect("tar");
    assert!(made.success());
    let archive = fs::read(recipe.path().join("hello-src.tar.gz")).expect("archive");
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(&archive));
    fs::remove_dir_all(recipe.path().join("pkg")).expect("remove pkg");
    let text = fs::read_to_string(recipe.path().join("stone.yaml")).expect("recipe");
    let text = text
        .replace(
            "setup       : |\n    cp -a %(pkgdir)/. .\n",
            "setup       : |\n    test -f Makefile\n",
        )
        .replace(
            "builddeps   :",
            &format!("upstreams   :\n    - ./hello-src.tar.gz : {hash}\nbuilddeps   :"),
        );
    fs::write(recipe.path().join("stone.yaml"), &text).expect("write");
    let check = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["recipe", "check"])
        .arg(recipe.path())
        .output()
        .expect("boulder recipe check");
    assert!(
        check.status.success(),
        "{}{}",
        text,
        String::from_utf8_lossy(&check.stderr)
    );
    let (out, _) = built(recipe.path(), &["-q"]);
    assert!(out.path().join("hello-1.0.0-1-1-x86_64.stone").is_file());
}

/// Serves `body` at any path over HTTP on loopback, for `requests` requests.
fn serve(body: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.expect("connection");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).expect("request") > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).expect("head");
            stream.write_all(&body).expect("body");
        }
    });
    (address, server)
}

#[test]
fn downloads_show_as_plain_lines_without_a_terminal_and_not_with_q() {
    if !have_dpkg() {
        return;
    }
    use sha2::Digest;
    for (quiet, extra) in [(false, "a"), (true, "b")] {
        let recipe = hello_copy(|r| r.to_string());
        // A distinct archive each time, so the cache cannot answer.
        fs::write(recipe.path().join("pkg/extra"), extra).expect("extra");
        let archive = recipe.path().join("hello-src.tar.gz");
        let made = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(recipe.path())
            .arg("pkg")
            .status()
            .expect("tar");
        assert!(made.success());
        let bytes = fs::read(&archive).expect("archive");
        let hash = hex::encode(sha2::Sha256::digest(&bytes));
        let (address, server) = serve(bytes, 1);
        let url = format!("{address}/hello-src-{extra}.tar.gz");
        let edited = fs::read_to_string(recipe.path().join("stone.yaml"))
            .expect("recipe")
            .replace(
                "setup       : |\n    cp -a %(pkgdir)/. .\n",
                "setup       : |\n    test -f Makefile\n",
            )
            .replace(
                "builddeps   :",
                &format!("upstreams   :\n    - {url} : {hash}\nbuilddeps   :"),
            );
        fs::write(recipe.path().join("stone.yaml"), edited).expect("write");
        let args: &[&str] = if quiet { &["-q"] } else { &[] };
        let (_out, output) = build(recipe.path(), args);
        server.join().expect("server");
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        if quiet {
            assert!(!stderr.contains("download"), "-q:\n{stderr}");
        } else {
            assert!(stderr.contains(&format!("downloading {url} (")), "{stderr}");
            assert!(stderr.contains(&format!("downloaded {url} (")), "{stderr}");
            assert!(
                !stderr.contains('\r'),
                "no bar without a terminal:\n{stderr}"
            );
        }
    }
}

/// Everything `boulder build` of hello writes to a terminal (a new pty),
/// with `env` added.
fn on_a_terminal(env: &[(&str, &str)]) -> String {
    use std::io::Read;
    let pair = nix::pty::openpty(None, None).expect("openpty");
    let slave = fs::File::from(pair.slave);
    let mut master = fs::File::from(pair.master);
    let out = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
    command
        .args(["build", "--cache-dir", path_str(&cache_dir())])
        .arg(workspace().join("recipes-example/hello"))
        .arg("-o")
        .arg(out.path())
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(slave.try_clone().expect("dup"))
        .stderr(slave);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("boulder runs");
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        // The master reads EIO once the last slave descriptor is closed.
        while let Ok(n) = master.read(&mut chunk) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
        }
        bytes
    });
    let status = child.wait().expect("wait");
    let shown = String::from_utf8_lossy(&reader.join().expect("reader")).into_owned();
    assert!(status.success(), "{shown}");
    shown
}

#[test]
fn colour_on_a_terminal_unless_no_color_says_otherwise() {
    if !have_dpkg() {
        return;
    }
    let coloured = on_a_terminal(&[]);
    assert!(
        coloured.contains("\x1b[2m  build │\x1b[0m"),
        "a terminal gets coloured phase tags:\n{coloured}"
    );
    let plain = on_a_terminal(&[("NO_COLOR", "1")]);
    assert!(plain.contains("  build │ "), "{plain}");
    assert!(
        !plain.contains("\x1b[2m") && !plain.contains("\x1b[1m") && !plain.contains("\x1b[33m"),
        "NO_COLOR: no colour:\n{plain}"
    );
}
