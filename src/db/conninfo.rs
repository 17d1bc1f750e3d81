//! Connection strings as libpq reads them: `postgres://` / `postgresql://`
//! URLs and `key=value` strings, turned into libpq keywords and values.
//!
//! Only the syntax is handled here; what the keywords mean (and the defaults
//! from the environment) is `settings.rs`'s business. Error messages never
//! echo anything that may be (part of) a password.

/// Every keyword converge accepts, as libpq spells it.
pub(crate) const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "options",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "client_encoding",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslsni",
    "sslcertmode",
    "sslcompression",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "channel_binding",
    "target_session_attrs",
    "load_balance_hosts",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "gssencmode",
];

/// libpq keywords converge knows but cannot honour: naming one is an error
/// rather than a silently weaker connection.
const UNSUPPORTED: &[&str] = &[
    "service",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslkeylogfile",
    "requirepeer",
    "require_auth",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "replication",
    "min_protocol_version",
    "max_protocol_version",
    "oauth_issuer",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
];

/// The keyword/value pairs of a connection string, in the order written
/// (a later pair for the same keyword wins).
pub(crate) type Params = Vec<(String, String)>;

/// Parses a URL (when `text` starts with `postgres://` or `postgresql://`)
/// or a `key=value` string.
pub(crate) fn parse(text: &str) -> Result<Params, String> {
    let params = match url_rest(text) {
        Some(rest) => parse_url(rest)?,
        None => parse_key_values(text)?,
    };
    Ok(params)
}

fn url_rest(text: &str) -> Option<&str> {
    ["postgresql://", "postgres://"].iter().find_map(|prefix| {
        let head = text.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
    })
}

/// Checks a keyword; `after_password` keeps a stray word that may be part of
/// an unquoted password out of the message.
fn check_keyword(key: &str, after_password: bool) -> Result<(), String> {
    if KEYWORDS.contains(&key) {
        return Ok(());
    }
    if after_password {
        return Err(
            "invalid connection option after \"password\" (quote a password that contains spaces: \
                    password='...')"
                .into(),
        );
    }
    if UNSUPPORTED.contains(&key) {
        return Err(format!("connection option \"{key}\" is not supported by converge"));
    }
    Err(format!("invalid connection option \"{key}\""))
}

/// `key=value` pairs separated by whitespace; values may be single-quoted,
/// and a backslash escapes the next character (libpq's `conninfo_parse`).
fn parse_key_values(text: &str) -> Result<Params, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut params = Params::new();
    let mut previous_was_password = false;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' {
            return Err(if previous_was_password {
                "missing \"=\" after a word that follows \"password\" (quote a password that contains spaces: \
                 password='...')"
                    .into()
            } else {
                format!("missing \"=\" after \"{key}\" in connection info string")
            });
        }
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quoted string in connection info string".into()),
                    Some('\\') => {
                        if let Some(&c) = chars.get(i + 1) {
                            value.push(c);
                        }
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    if let Some(&c) = chars.get(i + 1) {
                        value.push(c);
                    }
                    i += 2;
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        check_keyword(&key, previous_was_password)?;
        previous_was_password = key == "password";
        params.push((key, value));
    }
    Ok(params)
}

/// `[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`, the part
/// after the scheme (libpq's `conninfo_uri_parse_options`).
fn parse_url(rest: &str) -> Result<Params, String> {
    let mut params = Params::new();
    let mut s = rest;

    // Credentials: everything before an '@' that comes before any '/'.
    let cut = s.find(['@', '/']).unwrap_or(s.len());
    if s[cut..].starts_with('@') {
        let credentials = &s[..cut];
        let (user, password) = match credentials.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (credentials, None),
        };
        if !user.is_empty() {
            params.push(("user".into(), decode(user, "the user name")?));
        }
        if let Some(password) = password
            && !password.is_empty()
        {
            params.push(("password".into(), decode(password, "the password")?));
        }
        s = &s[cut + 1..];
    }

    // Hosts and ports, comma-separated; IPv6 addresses in brackets.
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    loop {
        let host;
        if let Some(after) = s.strip_prefix('[') {
            let end = after.find(']').ok_or_else(|| {
                format!(
                    "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"{}\"",
                    redact_url(rest)
                )
            })?;
            if end == 0 {
                return Err("IPv6 host address may not be empty in URI".into());
            }
            host = &after[..end];
            s = &after[end + 1..];
            if !s.is_empty() && !s.starts_with([':', '/', '?', ',']) {
                return Err(format!(
                    "unexpected character \"{}\" after IPv6 host address in URI",
                    s.chars().next().unwrap_or(' ')
                ));
            }
        } else {
            let end = s.find([':', '/', '?', ',']).unwrap_or(s.len());
            host = &s[..end];
            s = &s[end..];
        }
        let mut port = "";
        if let Some(after) = s.strip_prefix(':') {
            let end = after.find(['/', '?', ',']).unwrap_or(after.len());
            port = &after[..end];
            s = &after[end..];
        }
        hosts.push(host);
        ports.push(port);
        match s.strip_prefix(',') {
            Some(after) => s = after,
            None => break,
        }
    }
    let host = hosts.join(",");
    if !host.is_empty() && hosts.iter().any(|h| !h.is_empty()) {
        params.push(("host".into(), decode(&host, "the host")?));
    }
    let port = ports.join(",");
    if ports.iter().any(|p| !p.is_empty()) {
        params.push(("port".into(), decode(&port, "the port")?));
    }

    // Database name.
    if let Some(after) = s.strip_prefix('/') {
        let end = after.find('?').unwrap_or(after.len());
        let dbname = &after[..end];
        if !dbname.is_empty() {
            params.push(("dbname".into(), decode(dbname, "the database name")?));
        }
        s = &after[end..];
    }

    // Query parameters.
    if let Some(query) = s.strip_prefix('?') {
        for pair in query.split('&') {
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("missing key/value separator \"=\" in URI query parameter: \"{pair}\""))?;
            let key = decode(key, "a query parameter name")?;
            let is_password = key == "password";
            if value.contains('=') {
                return Err(if is_password {
                    "extra key/value separator \"=\" in URI query parameter \"password\" (percent-encode it as %3D)"
                        .into()
                } else {
                    format!("extra key/value separator \"=\" in URI query parameter: \"{key}\"")
                });
            }
            let value = decode(value, &format!("query parameter \"{key}\""))?;
            // JDBC-style `ssl=true`, which libpq accepts too.
            if key == "ssl" && value == "true" {
                params.push(("sslmode".into(), "require".into()));
                continue;
            }
            if !KEYWORDS.contains(&key.as_str()) {
                if UNSUPPORTED.contains(&key.as_str()) {
                    return Err(format!("connection option \"{key}\" is not supported by converge"));
                }
                return Err(format!("invalid URI query parameter: \"{key}\""));
            }
            params.push((key, value));
        }
    } else if !s.is_empty() {
        return Err(format!(
            "unexpected character \"{}\" in URI after the host",
            s.chars().next().unwrap_or(' ')
        ));
    }
    Ok(params)
}

/// The URL for a message: without its credentials.
fn redact_url(rest: &str) -> String {
    let cut = rest.find(['@', '/']).unwrap_or(rest.len());
    if rest[cut..].starts_with('@') {
        format!("postgres://...@{}", &rest[cut + 1..])
    } else {
        format!("postgres://{rest}")
    }
}

/// Percent-decoding (`+` stays a plus, as in libpq). `what` names the part
/// for the message, which never shows the text itself.
fn decode(text: &str, what: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoded token in {what}"))?;
            if hex == 0 {
                return Err(format!("forbidden value %00 in {what}"));
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{what} is not valid UTF-8 after percent-decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
        params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn key_values_with_quotes_and_escapes() {
        let p = parse(r"host=db port = 6543 password='a b\'c' user=al\ ice dbname='' options='-c x=1'").unwrap();
        assert_eq!(get(&p, "host"), Some("db"));
        assert_eq!(get(&p, "port"), Some("6543"));
        assert_eq!(get(&p, "password"), Some("a b'c"));
        assert_eq!(get(&p, "user"), Some("al ice"));
        assert_eq!(get(&p, "dbname"), Some(""));
        assert_eq!(get(&p, "options"), Some("-c x=1"));
        assert!(parse("").unwrap().is_empty());
        assert!(parse("   ").unwrap().is_empty());
    }

    #[test]
    fn key_value_errors() {
        assert_eq!(
            parse("host").unwrap_err(),
            "missing \"=\" after \"host\" in connection info string"
        );
        assert!(parse("password='abc").unwrap_err().contains("unterminated"));
        assert_eq!(parse("bogus=1").unwrap_err(), "invalid connection option \"bogus\"");
        assert!(parse("service=x").unwrap_err().contains("not supported"));
        // A password with an unquoted space: the rest is not echoed.
        let e = parse("user=u password=se cret").unwrap_err();
        assert!(!e.contains("cret"), "{e}");
        let e = parse("user=u password=se cret=x").unwrap_err();
        assert!(!e.contains("cret"), "{e}");
    }

    #[test]
    fn urls() {
        let p =
            parse("postgresql://al%40ice:p%3Ass@db.example.com:6543/my%20db?sslmode=verify-full&application_name=x")
                .unwrap();
        assert_eq!(get(&p, "user"), Some("al@ice"));
        assert_eq!(get(&p, "password"), Some("p:ss"));
        assert_eq!(get(&p, "host"), Some("db.example.com"));
        assert_eq!(get(&p, "port"), Some("6543"));
        assert_eq!(get(&p, "dbname"), Some("my db"));
        assert_eq!(get(&p, "sslmode"), Some("verify-full"));
        assert_eq!(get(&p, "application_name"), Some("x"));

        let p = parse("postgres://%2Fvar%2Frun%2Fpostgresql/db").unwrap();
        assert_eq!(get(&p, "host"), Some("/var/run/postgresql"));
        assert_eq!(get(&p, "dbname"), Some("db"));

        let p = parse("postgres:///db?host=/tmp&port=5433&connect_timeout=3").unwrap();
        assert_eq!(get(&p, "host"), Some("/tmp"));
        assert_eq!(get(&p, "port"), Some("5433"));
        assert_eq!(get(&p, "connect_timeout"), Some("3"));

        let p = parse("postgres://[::1]:5433,other:5434/db").unwrap();
        assert_eq!(get(&p, "host"), Some("::1,other"));
        assert_eq!(get(&p, "port"), Some("5433,5434"));

        let p = parse("postgres://h1,h2:7/").unwrap();
        assert_eq!(get(&p, "host"), Some("h1,h2"));
        assert_eq!(get(&p, "port"), Some(",7"));

        let p = parse("postgres://").unwrap();
        assert!(p.is_empty());
        let p = parse("POSTGRES://u@h?ssl=true").unwrap();
        assert_eq!(get(&p, "user"), Some("u"));
        assert_eq!(get(&p, "sslmode"), Some("require"));
    }

    #[test]
    fn url_errors_never_show_the_password() {
        assert!(parse("postgres://[::1").is_err());
        assert!(parse("postgres://u:s3cret@[::1").unwrap_err().contains("..."));
        assert!(!parse("postgres://u:s3cret@[::1").unwrap_err().contains("s3cret"));
        let e = parse("postgres://u:s3cr%zzet@h/db").unwrap_err();
        assert_eq!(e, "invalid percent-encoded token in the password");
        assert!(parse("postgres://h/db?bogus=1").unwrap_err().contains("bogus"));
        assert!(parse("postgres://h/db?sslmode").is_err());
        let e = parse("postgres://h/db?password=a=b").unwrap_err();
        assert!(!e.contains("a=b"), "{e}");
        assert!(parse("postgres://h/db%00").is_err());
    }
}
