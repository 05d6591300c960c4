//! Which URLs an archive entry of the cache was fetched from.
//!
//! `origins/<sha256>` lists them, one a line. The list only grows: the same
//! file served by a mirror and by the project's own site is one entry with
//! two origins.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

pub(crate) struct Origins {
    dir: PathBuf,
}

impl Origins {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Origins { dir }
    }

    /// The URLs the entry of `hash` came from (none for an unknown entry, or
    /// one made before origins were recorded: it is fetched once more).
    pub(crate) fn urls(&self, hash: &str) -> Vec<String> {
        fs::read_to_string(self.dir.join(hash))
            .map(|text| {
                text.lines()
                    .filter(|line| !line.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds `url` to the origins of `hash`. The new list replaces the old
    /// one by a rename, so a concurrent reader sees one or the other whole.
    pub(crate) fn record(&self, hash: &str, url: &str) -> std::io::Result<()> {
        let mut urls = self.urls(hash);
        if urls.iter().any(|known| known == url) {
            return Ok(());
        }
        urls.push(url.to_string());
        fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::Builder::new()
            .prefix(".")
            .suffix(".part")
            .tempfile_in(&self.dir)?;
        for url in &urls {
            writeln!(file, "{url}")?;
        }
        file.as_file().sync_all()?;
        file.persist(self.dir.join(hash)).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_accumulate_without_duplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let origins = Origins::new(dir.path().join("origins"));
        assert!(origins.urls("ab").is_empty());
        origins.record("ab", "https://a/x.tar").expect("record");
        origins.record("ab", "https://b/x.tar").expect("record");
        origins.record("ab", "https://a/x.tar").expect("record");
        assert_eq!(origins.urls("ab"), ["https://a/x.tar", "https://b/x.tar"]);
        assert!(origins.urls("cd").is_empty());
    }
}
