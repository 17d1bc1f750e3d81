//! File and directory names for objects, and writing the files.

use super::{DumpError, DumpFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A directory name for a schema: the name itself where that is a safe,
/// visible directory name; anything else (`/`, a leading `.`, control
/// characters, and `.` at all so no directory is named like a root file)
/// percent-encoded.
pub fn dir_name(name: &str) -> String {
    encode(name, |_, c| c != '.')
}

/// A file name (without `.sql`) for an object.
pub fn file_stem(name: &str) -> String {
    encode(name, |i, c| !(c == '.' && i == 0))
}

fn encode(name: &str, allowed: impl Fn(usize, char) -> bool) -> String {
    if name.is_empty() {
        return "%".to_string();
    }
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let plain = c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '.' | '@' | '+' | '=' | ',');
        if plain && allowed(i, c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Gives files whose paths differ only in letter case (`Orders` and
/// `orders`, one file on a case-insensitive file system) distinct names:
/// the later ones get `~2`, `~3`, ... before `.sql` (`~` is always encoded
/// in names, so these cannot collide with another object's file).
pub fn disambiguate(files: Vec<DumpFile>) -> Vec<DumpFile> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(files.len());
    for mut f in files {
        let key = f.path.to_string_lossy().to_lowercase();
        let n = seen.entry(key).or_insert(0);
        *n += 1;
        if *n > 1 {
            let stem = f
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            f.path.set_file_name(format!("{stem}~{n}.sql"));
        }
        out.push(f);
    }
    out
}

/// Writes `files` under `out_dir`, creating it if needed.
///
/// A directory that already has entries is refused, unless `force`: then
/// every `.sql` file already under it is removed first (so an object that no
/// longer exists leaves no file behind that would bring it back), and other
/// files are kept.
pub fn write(files: &[DumpFile], out_dir: &Path, force: bool) -> Result<(), DumpError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DumpError::Io { path, source }
    };
    match std::fs::metadata(out_dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(DumpError::NotADirectory {
                path: out_dir.to_path_buf(),
            });
        }
        Ok(_) => {
            let non_empty = std::fs::read_dir(out_dir).map_err(io(out_dir))?.next().is_some();
            if non_empty {
                if !force {
                    return Err(DumpError::NotEmpty {
                        dir: out_dir.to_path_buf(),
                    });
                }
                remove_sql_files(out_dir)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(out_dir)(e)),
    }
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    for f in files {
        let path = out_dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &f.text).map_err(io(&path))?;
    }
    Ok(())
}

/// Removes every `*.sql` file under `dir` (not under hidden directories),
/// and the directories that leaves empty (not `dir` itself).
fn remove_sql_files(dir: &Path) -> Result<bool, DumpError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DumpError::Io { path, source }
    };
    let mut empty = true;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            // Hidden entries (.git, ...) are not desired files.
            empty = false;
            continue;
        }
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            if remove_sql_files(&path)? {
                std::fs::remove_dir(&path).map_err(io(&path))?;
            } else {
                empty = false;
            }
        } else if path.extension().is_some_and(|e| e == "sql") {
            std::fs::remove_file(&path).map_err(io(&path))?;
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

/// `<schema>/<kind>/<name>.sql`.
pub fn object_path(schema: &str, kind: &str, name: &str) -> PathBuf {
    PathBuf::from(dir_name(schema))
        .join(kind)
        .join(format!("{}.sql", file_stem(name)))
}

/// `<schema>/schema.sql`.
pub fn schema_path(schema: &str) -> PathBuf {
    PathBuf::from(dir_name(schema)).join("schema.sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_readable_and_safe() {
        assert_eq!(file_stem("orders"), "orders");
        assert_eq!(file_stem("Order Items"), "Order%20Items");
        assert_eq!(file_stem("a/b"), "a%2Fb");
        assert_eq!(file_stem(".hidden"), "%2Ehidden");
        assert_eq!(file_stem("v1.2"), "v1.2");
        assert_eq!(file_stem("x~1"), "x%7E1");
        assert_eq!(file_stem("café"), "café");
        assert_eq!(dir_name("extensions.sql"), "extensions%2Esql");
        assert_eq!(dir_name(".."), "%2E%2E");
    }

    #[test]
    fn case_only_differences_get_distinct_files() {
        let f = |p: &str| DumpFile {
            path: PathBuf::from(p),
            text: String::new(),
        };
        let out = disambiguate(vec![f("app/tables/Orders.sql"), f("app/tables/orders.sql")]);
        assert_eq!(out[0].path, PathBuf::from("app/tables/Orders.sql"));
        assert_eq!(out[1].path, PathBuf::from("app/tables/orders~2.sql"));
    }
}
