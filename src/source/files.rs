//! Reading the desired files: every `*.sql` file under the given paths.

use crate::diagnostic::{Code, Diagnostic, SourceText};
use std::path::{Path, PathBuf};

/// One desired file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as shown to users: relative to the working directory when the
    /// file is under it.
    pub path: String,
    pub text: String,
}

/// All desired files, in a fixed order (sorted by path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl SourceText for Sources {
    fn text(&self, path: &str) -> Option<&str> {
        self.files.iter().find(|f| f.path == path).map(|f| f.text.as_str())
    }
}

impl Sources {
    /// Reads every `.sql` file under `paths` (files are taken as they are,
    /// directories recursively).
    pub fn read(paths: &[PathBuf]) -> Result<Sources, Diagnostic> {
        let mut found = Vec::new();
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| {
                Diagnostic::new(Code::Io, format!("cannot read {}: {e}", path.display()))
                    .help("pass the directory or files of your desired schema with --schema PATH")
            })?;
            if meta.is_dir() {
                walk(path, &mut found)?;
            } else {
                found.push(path.clone());
            }
        }
        found.sort();
        found.dedup();
        let mut files = Vec::with_capacity(found.len());
        for path in found {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Diagnostic::new(Code::Io, format!("cannot read {}: {e}", path.display())))?;
            files.push(SourceFile {
                path: display_path(&path),
                text,
            });
        }
        if files.is_empty() {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(
                Diagnostic::new(Code::Io, format!("no .sql files found under {}", names.join(", ")))
                    .help("write the desired schema as .sql files there, or pass --schema PATH"),
            );
        }
        Ok(Sources { files })
    }

    /// Builds sources from text held in memory (tests, `check` of stdin).
    pub fn from_texts(texts: impl IntoIterator<Item = (String, String)>) -> Sources {
        let mut files: Vec<SourceFile> = texts
            .into_iter()
            .map(|(path, text)| SourceFile { path, text })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Sources { files }
    }

    /// sha256 over every file's path and text, in path order: the identity of
    /// the desired state as written.
    pub fn fingerprint(&self) -> crate::catalog::Fingerprint {
        let lengths: Vec<[u8; 8]> = self.files.iter().map(|f| (f.text.len() as u64).to_le_bytes()).collect();
        crate::catalog::Fingerprint::of_parts(
            self.files
                .iter()
                .zip(&lengths)
                .flat_map(|(f, length)| [f.path.as_bytes(), &[0u8][..], &length[..], f.text.as_bytes()]),
        )
    }

    /// A quick 64-bit digest of every file's path and text, to tell whether
    /// the files read again are the ones read before (not a fingerprint: it
    /// is not kept, nor meant to identify files to anyone).
    pub fn digest(&self) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = foldhash::fast::FixedState::with_seed(0).build_hasher();
        for f in &self.files {
            hasher.write(f.path.as_bytes());
            hasher.write_u8(0);
            hasher.write_usize(f.text.len());
            hasher.write(f.text.as_bytes());
        }
        hasher.finish()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Diagnostic> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Diagnostic::new(Code::Io, format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| Diagnostic::new(Code::Io, format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| Diagnostic::new(Code::Io, format!("cannot read {}: {e}", path.display())))?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        if let Ok(rel) = absolute.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    path.display().to_string()
}
