//! Archive upstreams end to end: a real HTTP server on loopback serves
//! archives made here; boulder fetches, verifies, caches and extracts them.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use boulder::upstream::{Upstream, UpstreamCache, UpstreamError};
use sha2::{Digest, Sha256};
use tar::EntryType;
use test_support::http::HttpServer;

// ---------------------------------------------------------------- server --

/// The loopback server of a test: `files` by name under `/files/`.
struct Server(HttpServer);

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        let files = files
            .into_iter()
            .map(|(name, body)| (format!("/files/{name}"), body))
            .collect();
        Server(HttpServer::serve_files(Arc::new(Mutex::new(files))))
    }

    fn url(&self, name: &str) -> String {
        self.0.url(&format!("files/{name}"))
    }

    /// How many requests it has answered.
    fn requests(&self) -> usize {
        self.0.requests().len()
    }

    /// Stop accepting and close the port.
    fn stop(mut self) {
        self.0.shut_down();
    }
}

// -------------------------------------------------------------- archives --

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Append an entry with a raw header, so malicious names are possible too.
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: EntryType,
    mode: u32,
    link: &str,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(1_600_000_000);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

const README: &[u8] = b"hello from the upstream\n";
const SCRIPT: &[u8] = b"#!/bin/sh\necho hi\n";

/// `hello-1.0/{README, bin/run.sh (0755), docs -> README, bin/hard = README}`
/// preceded by a pax global header as `git archive` writes one.
fn sample_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(
        &mut b,
        "pax_global_header",
        EntryType::XGlobalHeader,
        0o644,
        "",
        b"",
    );
    raw_entry(&mut b, "hello-1.0/", EntryType::Directory, 0o755, "", b"");
    raw_entry(
        &mut b,
        "hello-1.0/README",
        EntryType::Regular,
        0o644,
        "",
        README,
    );
    raw_entry(
        &mut b,
        "hello-1.0/bin/",
        EntryType::Directory,
        0o755,
        "",
        b"",
    );
    raw_entry(
        &mut b,
        "hello-1.0/bin/run.sh",
        EntryType::Regular,
        0o755,
        "",
        SCRIPT,
    );
    raw_entry(
        &mut b,
        "hello-1.0/docs",
        EntryType::Symlink,
        0o777,
        "README",
        b"",
    );
    raw_entry(
        &mut b,
        "hello-1.0/bin/hard",
        EntryType::Link,
        0o644,
        "hello-1.0/README",
        b"",
    );
    b.into_inner().unwrap()
}

/// (name, type, link target) of each hand-made entry.
type RawEntries<'a> = Vec<(&'a str, EntryType, &'a str)>;

fn malicious_tar(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(&mut b, "pkg/", EntryType::Directory, 0o755, "", b"");
    for (name, kind, link) in entries {
        let data: &[u8] = if *kind == EntryType::Regular {
            b"pwned\n"
        } else {
            b""
        };
        raw_entry(&mut b, name, *kind, 0o644, link, data);
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An lzip member: "LZIP", version 1, dictionary size 2^23, the raw LZMA
/// stream (with end marker) of an .lzma encoding minus its 13-byte header,
/// then CRC32, data size and member size.
fn lzip(data: &[u8]) -> Vec<u8> {
    let mut options = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
    options.dict_size(1 << 23);
    let stream = liblzma::stream::Stream::new_lzma_encoder(&options).unwrap();
    let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    e.write_all(data).unwrap();
    let alone = e.finish().unwrap();
    let mut out = b"LZIP\x01\x17".to_vec();
    out.extend_from_slice(&alone[13..]);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    let member_size = out.len() as u64 + 8;
    out.extend_from_slice(&member_size.to_le_bytes());
    out
}

fn sample_zip() -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.add_directory("hello-1.0/", opts.unix_permissions(0o755))
        .unwrap();
    w.start_file("hello-1.0/README", opts.unix_permissions(0o644))
        .unwrap();
    w.write_all(README).unwrap();
    w.add_directory("hello-1.0/bin/", opts.unix_permissions(0o755))
        .unwrap();
    w.start_file("hello-1.0/bin/run.sh", opts.unix_permissions(0o755))
        .unwrap();
    w.write_all(SCRIPT).unwrap();
    w.add_symlink("hello-1.0/docs", "README", opts).unwrap();
    w.finish().unwrap().into_inner()
}

/// Every format of the sample tree, by file name.
fn sample_archives() -> HashMap<String, Vec<u8>> {
    let tar = sample_tar();
    HashMap::from([
        ("hello-1.0.tar".to_string(), tar.clone()),
        ("hello-1.0.tar.gz".to_string(), gzip(&tar)),
        ("hello-1.0.tar.xz".to_string(), xz(&tar)),
        ("hello-1.0.tar.zst".to_string(), zst(&tar)),
        ("hello-1.0.tar.bz2".to_string(), bz2(&tar)),
        ("hello-1.0.tar.lz".to_string(), lzip(&tar)),
        ("hello-1.0.zip".to_string(), sample_zip()),
    ])
}

// --------------------------------------------------------------- checks --

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// The sample tree with one leading directory stripped, at `dir`.
fn assert_sample_tree(dir: &Path, has_hardlink: bool) {
    assert_eq!(
        fs::read(dir.join("README")).unwrap(),
        README,
        "{}",
        dir.display()
    );
    assert_eq!(fs::read(dir.join("bin/run.sh")).unwrap(), SCRIPT);
    assert_eq!(mode(&dir.join("bin/run.sh")), 0o755);
    assert_eq!(mode(&dir.join("README")), 0o644);
    assert_eq!(
        fs::read_link(dir.join("docs")).unwrap(),
        PathBuf::from("README")
    );
    if has_hardlink {
        let a = fs::metadata(dir.join("README")).unwrap();
        let b = fs::metadata(dir.join("bin/hard")).unwrap();
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
    }
}

/// Every regular file below `dir` (symlinks and directories excluded).
fn files_below(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().to_path_buf())
        .collect()
}

// ---------------------------------------------------------------- tests --

#[test]
fn every_format_is_fetched_verified_cached_and_extracted() {
    let tmp = tempfile::tempdir().unwrap();
    let archives = sample_archives();
    let server = Server::start(archives.clone());
    let mut names: Vec<&String> = archives.keys().collect();
    names.sort();
    let upstreams: Vec<Upstream> = names
        .iter()
        .map(|name| Upstream::archive(server.url(name), sha256(&archives[*name])))
        .collect();

    let cache = UpstreamCache::new(tmp.path().join("cache"));
    let fetched = cache.fetch_all(&upstreams).unwrap();
    assert_eq!(server.requests(), names.len());
    for (f, name) in fetched.iter().zip(&names) {
        assert!(!f.from_cache());
        let hash = sha256(&archives[*name]);
        assert_eq!(f.path(), cache.fetched_dir().join(&hash).join(name));
        assert_eq!(fs::read(f.path()).unwrap(), archives[*name]);
        let dest = f.extract_into(&tmp.path().join("build")).unwrap();
        assert_eq!(dest, tmp.path().join("build").join(name));
        assert_sample_tree(&dest, !name.ends_with(".zip"));
    }
    // No partial downloads are left behind.
    let leftovers: Vec<_> = fs::read_dir(cache.fetched_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());

    // Second run: the server is gone, everything comes from the cache.
    server.stop();
    let again = UpstreamCache::new(tmp.path().join("cache"))
        .fetch_all(&upstreams)
        .unwrap();
    for (f, name) in again.iter().zip(&names) {
        assert!(f.from_cache(), "{name} was not reused");
        let dest = f.extract_into(&tmp.path().join("build2")).unwrap();
        assert_sample_tree(&dest, !name.ends_with(".zip"));
    }
}

#[test]
fn stripdirs_unpackdir_rename_and_unpack_false() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = gzip(&sample_tar());
    let hash = sha256(&tgz);
    let server = Server::start(HashMap::from([("download".to_string(), tgz.clone())]));
    let url = server.url("download");
    let variant =
        |rename: Option<&str>, unpack, unpackdir: Option<&str>, stripdirs| Upstream::Archive {
            url: url.clone(),
            hash: hash.clone(),
            rename: rename.map(str::to_string),
            unpack,
            unpackdir: unpackdir.map(PathBuf::from),
            stripdirs,
        };
    let upstreams = [
        variant(Some("hello.tar.gz"), true, Some("src/custom"), Some(0)),
        variant(Some("hello.tar.gz"), true, Some("deep"), Some(2)),
        variant(Some("hello.tar.gz"), true, None, None),
        variant(Some("copy-of.tgz"), false, None, None),
    ];
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    let fetched = cache.fetch_all(&upstreams).unwrap();
    let build = tmp.path().join("build");
    let placed: Vec<PathBuf> = fetched
        .iter()
        .map(|f| f.extract_into(&build).unwrap())
        .collect();

    // stripdirs 0 keeps the top directory.
    assert_eq!(placed[0], build.join("src/custom"));
    assert_sample_tree(&build.join("src/custom/hello-1.0"), true);
    // stripdirs 2 drops `hello-1.0/bin/`: run.sh remains; the hard link's
    // target (`hello-1.0/README`) is stripped away, so it is skipped.
    let mut deep: Vec<_> = fs::read_dir(build.join("deep"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    deep.sort();
    assert_eq!(deep, ["run.sh"]);
    assert_eq!(fs::read(build.join("deep/run.sh")).unwrap(), SCRIPT);
    // Defaults: stripdirs 1 into a directory named after the file.
    assert_sample_tree(&build.join("hello.tar.gz"), true);
    // unpack: false places the file itself under its name.
    assert_eq!(placed[3], build.join("copy-of.tgz"));
    assert_eq!(fs::read(&placed[3]).unwrap(), tgz);
    // Same content under two names: one download, two cache names.
    assert_eq!(server.requests(), 1);
    assert!(cache
        .fetched_dir()
        .join(&hash)
        .join("copy-of.tgz")
        .is_file());
    server.stop();
}

#[test]
fn wrong_hash_names_the_upstream_and_leaves_the_cache_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = gzip(&sample_tar());
    let server = Server::start(HashMap::from([("hello.tar.gz".to_string(), tgz.clone())]));
    let url = server.url("hello.tar.gz");
    let wrong = sha256(b"something else");
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    let err = cache
        .fetch_all(&[Upstream::archive(&url, &wrong)])
        .unwrap_err();
    match &err {
        UpstreamError::HashMismatch {
            url: u,
            expected,
            actual,
        } => {
            assert_eq!(u, &url);
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha256(&tgz));
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&url) && text.contains(&wrong) && text.contains(&sha256(&tgz)),
        "{text}"
    );
    assert!(files_below(&tmp.path().join("cache")).is_empty());
    server.stop();
}

#[test]
fn a_corrupt_cache_entry_is_fetched_again_and_stale_parts_are_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = gzip(&sample_tar());
    let hash = sha256(&tgz);
    let server = Server::start(HashMap::from([("hello.tar.gz".to_string(), tgz.clone())]));
    let up = Upstream::archive(server.url("hello.tar.gz"), &hash);
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    // A partial download left by a killed boulder two days ago, and a
    // recent one (maybe another boulder downloading right now).
    fs::create_dir_all(cache.fetched_dir()).unwrap();
    let stale = cache.fetched_dir().join(".old.part");
    let recent = cache.fetched_dir().join(".recent.part");
    fs::write(&stale, b"half").unwrap();
    fs::write(&recent, b"half").unwrap();
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 24 * 3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
    let first = cache.fetch(&up).unwrap();
    assert!(!stale.exists() && recent.exists());
    fs::write(first.path(), b"bit rot").unwrap();
    let second = cache.fetch(&up).unwrap();
    assert!(!second.from_cache());
    assert_eq!(fs::read(second.path()).unwrap(), tgz);
    assert_eq!(server.requests(), 2);
    server.stop();
}

#[test]
fn server_down_missing_file_and_several_failures_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(HashMap::new());
    let missing = server.url("missing.tar.gz");
    let hash = sha256(b"x");
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    match cache
        .fetch(&Upstream::archive(&missing, &hash))
        .unwrap_err()
    {
        UpstreamError::HttpStatus { url, status } => {
            assert_eq!((url.as_str(), status), (missing.as_str(), 404))
        }
        other => panic!("expected HTTP 404, got {other:?}"),
    }
    // TLS is wired in: https:// to a plain HTTP port fails the handshake.
    let tls = server.url("x.tar.gz").replace("http://", "https://");
    let err = cache.fetch(&Upstream::archive(&tls, &hash)).unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Download { url, .. } if url == &tls),
        "{err:?}"
    );
    let down = server.url("gone.tar.gz");
    server.stop();
    let err = cache.fetch(&Upstream::archive(&down, &hash)).unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Download { url, .. } if url == &down),
        "{err:?}"
    );
    assert!(err.to_string().contains(&down));

    let both = cache
        .fetch_all(&[
            Upstream::archive(&down, &hash),
            Upstream::archive("ftp://example.org/x.tar", &hash),
        ])
        .unwrap_err();
    let text = both.to_string();
    assert!(
        matches!(both, UpstreamError::Several(ref e) if e.len() == 2),
        "{text}"
    );
    assert!(
        text.contains(&down) && text.contains("ftp://example.org/x.tar"),
        "{text}"
    );
    assert!(files_below(&tmp.path().join("cache")).is_empty());
}

#[test]
fn file_urls_and_local_paths_are_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let xz_bytes = xz(&sample_tar());
    let local = tmp.path().join("dir with space/hello-1.0.tar.xz");
    fs::create_dir_all(local.parent().unwrap()).unwrap();
    fs::write(&local, &xz_bytes).unwrap();
    let file_url = format!("file://{}", local.display()).replace(' ', "%20");
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    let hash = sha256(&xz_bytes);
    for url in [file_url, local.display().to_string()] {
        let fetched = cache.fetch(&Upstream::archive(&url, &hash)).unwrap();
        let build = tempfile::tempdir().unwrap();
        assert_sample_tree(&fetched.extract_into(build.path()).unwrap(), true);
    }
    let other = sha256(b"not in the cache");
    let err = cache
        .fetch(&Upstream::archive(
            format!("file://{}/nope.tar", tmp.path().display()),
            other,
        ))
        .unwrap_err();
    assert!(err.to_string().contains("nope.tar"), "{err}");
}

/// Fetch `archive` from a local path and extract it into `<tmp>/build`.
fn extract_local(tmp: &Path, name: &str, archive: &[u8]) -> Result<PathBuf, UpstreamError> {
    let path = tmp.join(name);
    fs::write(&path, archive).unwrap();
    let cache = UpstreamCache::new(tmp.join("cache"));
    let fetched = cache.fetch(&Upstream::archive(
        path.display().to_string(),
        sha256(archive),
    ))?;
    fetched.extract_into(&tmp.join("build"))
}

#[test]
fn malicious_tars_are_refused_and_write_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let absolute = format!("{}/abs-evil", outside.display());
    let cases: Vec<(&str, RawEntries)> = vec![
        (
            "dotdot",
            vec![("pkg/../../outside/evil", EntryType::Regular, "")],
        ),
        (
            "absolute",
            vec![(absolute.as_str(), EntryType::Regular, "")],
        ),
        (
            "symlink-escape",
            vec![
                // From <case>/build/bad.tar.gz/ this names the real `outside`.
                ("pkg/esc", EntryType::Symlink, "../../../outside"),
                ("pkg/esc/evil", EntryType::Regular, ""),
            ],
        ),
        (
            "symlink-absolute",
            vec![("pkg/abs", EntryType::Symlink, "/etc")],
        ),
        (
            // Each link alone stays inside; followed one through another
            // they climb to <tmp>, then `outside/evil` lands outside.
            "symlink-chain",
            vec![
                ("pkg/a", EntryType::Symlink, "."),
                ("pkg/a/b", EntryType::Symlink, ".."),
                ("pkg/a/b/c", EntryType::Symlink, ".."),
                ("pkg/a/b/c/d", EntryType::Symlink, ".."),
                ("pkg/a/b/c/d/outside/evil", EntryType::Regular, ""),
            ],
        ),
        (
            "hardlink-escape",
            vec![("pkg/hl", EntryType::Link, "../outside/victim")],
        ),
    ];
    fs::write(outside.join("victim"), b"keep me").unwrap();
    for (label, entries) in cases {
        let case_dir = tmp.path().join(label);
        fs::create_dir(&case_dir).unwrap();
        let result = extract_local(&case_dir, "bad.tar.gz", &gzip(&malicious_tar(&entries)));
        match result {
            Err(UpstreamError::UnsafeEntry { url, entry, reason }) => {
                assert!(url.ends_with("bad.tar.gz"), "{label}: {url}");
                assert!(!entry.is_empty() && !reason.is_empty(), "{label}");
            }
            other => panic!("{label}: expected a refusal, got {other:?}"),
        }
        let mut left: Vec<_> = fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["victim"], "{label} wrote outside");
        assert_eq!(fs::read(outside.join("victim")).unwrap(), b"keep me");
    }
}

#[test]
fn malicious_zip_is_refused() {
    use zip::write::SimpleFileOptions;
    let tmp = tempfile::tempdir().unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("pkg/../../evil", SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"pwned").unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let err = extract_local(tmp.path(), "bad.zip", &bytes).unwrap_err();
    assert!(matches!(err, UpstreamError::UnsafeEntry { .. }), "{err:?}");
    assert!(!tmp.path().join("evil").exists());
}

#[test]
fn corrupt_and_unknown_archives_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = gzip(&sample_tar());
    let truncated = &tgz[..tgz.len() / 2];
    let err = extract_local(tmp.path(), "cut.tar.gz", truncated).unwrap_err();
    assert!(
        matches!(&err, UpstreamError::CorruptArchive { name, .. } if name == "cut.tar.gz"),
        "{err:?}"
    );
    let err = extract_local(tmp.path(), "fix.patch", b"--- a\n+++ b\n").unwrap_err();
    assert!(
        matches!(&err, UpstreamError::UnknownFormat { name, .. } if name == "fix.patch"),
        "{err:?}"
    );
}

#[test]
fn read_only_directories_and_times_are_handled() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(&mut b, "p/ro/", EntryType::Directory, 0o555, "", b"");
    raw_entry(&mut b, "p/ro/file", EntryType::Regular, 0o444, "", b"x");
    raw_entry(&mut b, "p/exe", EntryType::Regular, 0o4755, "", b"y");
    let dest = extract_local(tmp.path(), "ro.tar", &b.into_inner().unwrap()).unwrap();
    // Entries land inside a read-only directory; the directory keeps owner
    // rwx so the build directory can be removed afterwards.
    assert_eq!(fs::read(dest.join("ro/file")).unwrap(), b"x");
    assert_eq!(mode(&dest.join("ro/file")), 0o444);
    assert_eq!(mode(&dest.join("ro")), 0o755);
    // Set-id bits are dropped.
    assert_eq!(
        fs::metadata(dest.join("exe")).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    let mtime = fs::metadata(dest.join("ro/file"))
        .unwrap()
        .modified()
        .unwrap();
    let expected = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    assert_eq!(mtime, expected);
    fs::remove_dir_all(&dest).unwrap();
}
