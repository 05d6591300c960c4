//! Finding recipe files from command-line paths.

use std::path::{Path, PathBuf};

/// A path given on the command line holds no recipe.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("{0}: no stone.yaml found in this directory or below")]
    Empty(PathBuf),
    #[error("{path}: cannot walk directory: {message}")]
    Walk { path: PathBuf, message: String },
}

/// Expands `paths` into recipe files: files are taken as given (any name, e.g. `*.yml`),
/// directories are searched recursively for `stone.yaml`, in sorted order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut recipes = Vec::new();
    for path in paths {
        if path.is_file() {
            recipes.push(path.clone());
        } else if path.is_dir() {
            let found = in_directory(path)?;
            if found.is_empty() {
                return Err(DiscoverError::Empty(path.clone()));
            }
            recipes.extend(found);
        } else {
            return Err(DiscoverError::Missing(path.clone()));
        }
    }
    Ok(recipes)
}

fn in_directory(dir: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut found = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        // Skip hidden directories (.git) and build output.
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(|e| DiscoverError::Walk {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        if entry.file_type().is_file() && entry.file_name() == "stone.yaml" {
            found.push(entry.into_path());
        }
    }
    Ok(found)
}
