//! The password file (`~/.pgpass` or `PGPASSFILE`), read as libpq reads it.
//!
//! Each line is `hostname:port:database:username:password`; a field that is
//! exactly `*` matches anything, `\:` and `\\` stand for `:` and `\`, lines
//! starting with `#` are comments, and the first matching line wins. A file
//! that group or others may access is ignored, with one warning on stderr.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The socket directory libpq was built with (Debian's): a connection through
/// it matches the `localhost` lines of the file.
pub(crate) const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// Looks up the password for a connection; `host` is the host name, the
/// socket directory, or the address (`hostaddr`) when no name was given.
pub fn lookup(file: &Path, host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    if dbname.is_empty() || user.is_empty() {
        return None;
    }
    let host = if host.is_empty() || host == DEFAULT_SOCKET_DIR {
        "localhost"
    } else {
        host
    };
    let metadata = std::fs::metadata(file).ok()?;
    if !metadata.is_file() {
        warn_once(file, "is not a plain file");
        return None;
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        warn_once(
            file,
            "has group or world access; permissions should be u=rw (0600) or less",
        );
        return None;
    }
    let text = std::fs::read(file).ok()?;
    let text = String::from_utf8_lossy(&text);
    let port = port.to_string();
    text.split('\n').find_map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let rest = field_matches(line, host)?;
        let rest = field_matches(rest, &port)?;
        let rest = field_matches(rest, dbname)?;
        let rest = field_matches(rest, user)?;
        Some(unescape_password(rest))
    })
}

/// When the line's next field matches `value`, the text after its `:`.
fn field_matches<'a>(line: &'a str, value: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut wanted = value.chars();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        let (c, escaped) = if c == '\\' {
            match chars.next() {
                Some((_, next)) => (next, true),
                None => return None,
            }
        } else {
            (c, false)
        };
        if c == ':' && !escaped {
            // The field ends here: a match only if all of `value` was used.
            return wanted.next().is_none().then(|| &line[i + 1..]);
        }
        if wanted.next() != Some(c) {
            return None;
        }
    }
    None
}

/// The password field: up to the next unescaped `:`, escapes removed.
fn unescape_password(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' {
            break;
        }
        if c == '\\'
            && let Some(next) = chars.next()
        {
            out.push(next);
            continue;
        }
        out.push(c);
    }
    out
}

fn warn_once(file: &Path, problem: &str) {
    static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.get_or_insert_with(HashSet::new).insert(file.to_path_buf()) {
        eprintln!("warning: password file \"{}\" {problem}; ignoring it", file.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    #[test]
    fn fields_match_exactly_or_by_star() {
        assert_eq!(field_matches("db:5432:x", "db"), Some("5432:x"));
        assert_eq!(field_matches("db:5432:x", "d"), None);
        assert_eq!(field_matches("d:5432:x", "db"), None);
        assert_eq!(field_matches("*:5432", "anything"), Some("5432"));
        assert_eq!(field_matches("*x:5432", "*x"), Some("5432"));
        assert_eq!(field_matches(r"a\:b:rest", "a:b"), Some("rest"));
        assert_eq!(field_matches(r"a\\b:rest", r"a\b"), Some("rest"));
        assert_eq!(field_matches(r"\*:rest", "x"), None);
        assert_eq!(field_matches("nocolon", "nocolon"), None);
        assert_eq!(unescape_password(r"p\:w\\d:ignored"), r"p:w\d");
        assert_eq!(unescape_password(""), "");
    }

    #[test]
    fn first_matching_line_wins() {
        let f = file(
            "# comment\n\
             db.example.com:5432:app:alice:first\r\n\
             *:*:app:alice:second\n\
             localhost:5432:*:bob:socket\n\
             /tmp/sock:5433:*:bob:other\\:socket\n\
             *:*:*:*:fallback\n",
            0o600,
        );
        let p = f.path();
        assert_eq!(
            lookup(p, "db.example.com", 5432, "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(p, "db.example.com", 5433, "app", "alice").as_deref(),
            Some("second")
        );
        assert_eq!(lookup(p, "elsewhere", 1, "other", "carol").as_deref(), Some("fallback"));
        assert_eq!(
            lookup(p, DEFAULT_SOCKET_DIR, 5432, "x", "bob").as_deref(),
            Some("socket")
        );
        assert_eq!(lookup(p, "", 5432, "x", "bob").as_deref(), Some("socket"));
        assert_eq!(
            lookup(p, "/tmp/sock", 5433, "x", "bob").as_deref(),
            Some("other:socket")
        );
    }

    #[test]
    fn group_or_world_access_ignores_the_file() {
        let f = file("*:*:*:*:pw\n", 0o640);
        assert_eq!(lookup(f.path(), "h", 5432, "d", "u"), None);
        let f = file("*:*:*:*:pw\n", 0o604);
        assert_eq!(lookup(f.path(), "h", 5432, "d", "u"), None);
        let f = file("*:*:*:*:pw\n", 0o400);
        assert_eq!(lookup(f.path(), "h", 5432, "d", "u").as_deref(), Some("pw"));
        assert_eq!(lookup(Path::new("/nonexistent/pgpass"), "h", 5432, "d", "u"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(lookup(dir.path(), "h", 5432, "d", "u"), None);
    }
}
