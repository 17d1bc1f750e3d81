//! Finding the PostgreSQL server binaries installed on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `initdb` and `postgres`: `CONVERGE_PG_BIN`, else
/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/<major>/bin`.
/// (`PATH` is not used: Debian puts only client wrappers there.)
pub fn find_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("CONVERGE_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(format!("CONVERGE_PG_BIN={} has no initdb and postgres", dir.display()))
        };
    }
    let mut tried = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_server(&dir) {
            return Ok(dir);
        }
        tried.push(dir.display().to_string());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    for (_, dir) in versions.into_iter().rev() {
        if has_server(&dir) {
            return Ok(dir);
        }
        tried.push(dir.display().to_string());
    }
    Err(format!(
        "looked in {}; install the PostgreSQL server package (on Debian: apt-get install postgresql) \
         or set CONVERGE_PG_BIN, or point converge at a server with --url and --dev-url",
        if tried.is_empty() {
            "pg_config and /usr/lib/postgresql".to_string()
        } else {
            tried.join(", ")
        }
    ))
}

/// The version of the server binary in `bin_dir`, as `server_version_num`
/// writes it (`150018` for 15.18), read from `postgres --version` without
/// starting anything.
pub fn server_version_num(bin_dir: &Path) -> Result<i32, String> {
    let postgres = bin_dir.join("postgres");
    let out = Command::new(&postgres)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", postgres.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| format!("{} --version printed {:?}", postgres.display(), text.trim()))
}

/// `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 150018.
fn parse_version(text: &str) -> Option<i32> {
    let number = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = number.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<i32>()
            .ok()
    });
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    (major >= 10).then_some(major * 10000 + minor)
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_as_postgres_prints_them() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(150018)
        );
        assert_eq!(parse_version("postgres (PostgreSQL) 17.2"), Some(170002));
        assert_eq!(parse_version("postgres (PostgreSQL) 18beta1"), Some(180000));
        assert_eq!(parse_version("postgres (PostgreSQL) 9.6.24"), None);
        assert_eq!(parse_version("nothing"), None);
    }
}
