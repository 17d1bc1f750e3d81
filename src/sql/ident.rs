//! Quoting: every identifier and string literal converge writes into SQL goes
//! through these functions.

use crate::catalog::{ColumnRef, QualifiedName};
use std::cell::RefCell;
use std::collections::HashMap;

/// An identifier, quoted only when PostgreSQL needs it (as `quote_ident`
/// does): not lower-case letters, digits, `_` and `$`, or a keyword that is
/// not unreserved.
pub fn ident(name: &str) -> String {
    if is_plain(name) && !is_keyword(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted as needed.
pub fn qualified(q: &QualifiedName) -> String {
    format!("{}.{}", ident(&q.schema), ident(&q.name))
}

/// `schema.table.column`.
pub fn column_ref(c: &ColumnRef) -> String {
    format!("{}.{}", qualified(&c.table), ident(&c.column))
}

/// A standard string literal: `'it''s'`.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

thread_local! {
    static KEYWORDS: RefCell<HashMap<String, bool>> = RefCell::new(HashMap::new());
}

/// Asks PostgreSQL's own scanner whether `word` is a keyword that must be
/// quoted (anything but an unreserved keyword).
fn is_keyword(word: &str) -> bool {
    if let Some(known) = KEYWORDS.with(|k| k.borrow().get(word).copied()) {
        return known;
    }
    let reserved = match pg_query::scan(word) {
        Ok(result) => result.tokens.first().is_some_and(|t| {
            t.keyword_kind != pg_query::protobuf::KeywordKind::NoKeyword as i32
                && t.keyword_kind != pg_query::protobuf::KeywordKind::UnreservedKeyword as i32
        }),
        Err(_) => true,
    };
    KEYWORDS.with(|k| k.borrow_mut().insert(word.to_string(), reserved));
    reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("my table"), "\"my table\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("name"), "name", "unreserved keywords stay bare");
        assert_eq!(ident("1abc"), "\"1abc\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
