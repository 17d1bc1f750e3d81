//! Splitting a desired file into statements and parsing each one with
//! PostgreSQL's own grammar (pg_query), keeping byte offsets so every later
//! message can point at the text.
//!
//! Files are split with the parser (exact, also for `BEGIN ATOMIC` bodies),
//! or with the scanner when the parser fails (it tolerates broken statements
//! and `$$` bodies), and parsed one statement at a time (on every core: the
//! parser is thread-safe): a syntax error is then local to its statement, and
//! memory stays small on large files. pg_query's Rust error
//! carries no position, so on a syntax error the C parser is asked once more,
//! through its plain entry point, for the cursor position.

use super::cuts::Cuts;
use super::files::SourceFile;
use crate::diagnostic::{Code, Diagnostic, Span, char_to_byte};
use aho_corasick::AhoCorasick;
use pg_query::NodeEnum;
use std::ops::Range;
use std::sync::LazyLock;

/// One statement of a desired file, parsed (`node` is its tree, or what
/// `parse_file_with` made of it).
#[derive(Debug, Clone)]
pub struct ParsedStatement<T = NodeEnum> {
    /// Byte range of the statement in its file, from its first token (leading
    /// comments excluded) to its last.
    pub start: usize,
    pub end: usize,
    pub node: T,
    /// Byte range of the piece of text the statement was parsed from, and
    /// whether that piece holds this statement alone.
    pub piece: std::ops::Range<usize>,
    pub alone: bool,
}

/// A file's statements, and where the parser cut it (`None` when the
/// scanner had to).
pub type ParsedFile<T> = (Vec<ParsedStatement<T>>, Option<Cuts>);

/// The `\` token of the scanner: psql meta-commands start with it.
const BACKSLASH_TOKEN: i32 = b'\\' as i32;
const SQL_COMMENT_TOKEN: i32 = pg_query::protobuf::Token::SqlComment as i32;
const C_COMMENT_TOKEN: i32 = pg_query::protobuf::Token::CComment as i32;

/// Splits and parses one file. Returns every problem found, not only the first.
#[cfg(test)]
pub fn parse_file(file: &SourceFile) -> Result<Vec<ParsedStatement>, Vec<Diagnostic>> {
    parse_file_with(file, None, |_| None::<(NodeEnum, Range<usize>)>, NodeEnum::clone).map(|(statements, _)| statements)
}

/// Splits and parses one file, and turns each statement's tree into what
/// `each` makes of it, on every core; the trees are dropped as soon as they
/// are used (a big file's trees take many times its size). A piece of text
/// for which `known` has the answer already (with where its first token
/// starts and its last ends, relative to the piece) is not parsed: it is
/// taken as one statement that `each` would make that answer of. Returns
/// every problem found, not only the first.
///
/// `previous` is where the file's last version was cut (`Cuts`): only what
/// changed since is split again. The cuts of this version are returned when
/// the parser cut it (not for text that needed the scanner).
pub fn parse_file_with<T>(
    file: &SourceFile,
    previous: Option<&Cuts>,
    known: impl Fn(&str) -> Option<(T, Range<usize>)>,
    each: impl Fn(&NodeEnum) -> T,
) -> Result<ParsedFile<T>, Vec<Diagnostic>> {
    let text = file.text.as_str();
    if text.contains('\0') {
        let at = text.find('\0').unwrap_or(0);
        return Err(vec![
            Diagnostic::new(Code::Syntax, "the file contains a NUL byte")
                .at(span(file, at, at + 1), "here")
                .help("desired files must be SQL text; remove the NUL byte"),
        ]);
    }
    match split_whole(text, previous) {
        Some(pieces) => {
            let cuts = Cuts::of(text, &pieces);
            let located = pieces.into_iter().map(|piece| (piece, None)).collect();
            parse_pieces(file, text, located, known, each).map(|statements| (statements, Some(cuts)))
        }
        None => split_scanned(file, known, each).map(|statements| (statements, None)),
    }
}

/// The statements of `text` as the parser splits it, when that is all there
/// is to know: the parser accepted the whole text (so it holds no psql
/// meta-command and no stray token, both of which it refuses) and nothing in
/// it could be `COPY` data (the word does not occur). Then the whole file
/// need not be scanned: only the pieces not known before are, one by one.
/// On a 7 MB file of 30,000 statements the whole-file scan took ~0.17 s, the
/// parser's split ~0.13 s.
/// With `previous` cuts, only the changed part is split again when that is
/// sure to give the same pieces (`Cuts::split_again`).
fn split_whole<'t>(text: &'t str, previous: Option<&Cuts>) -> Option<Vec<&'t str>> {
    static COPY: LazyLock<Option<AhoCorasick>> =
        LazyLock::new(|| AhoCorasick::builder().ascii_case_insensitive(true).build(["copy"]).ok());
    if COPY.as_ref()?.is_match(text) {
        return None;
    }
    previous
        .and_then(|cuts| cuts.split_again(text))
        .or_else(|| pg_query::split_with_parser(text).ok())
}

/// `parse_file_with` for text that may hold psql meta-commands, `COPY` data
/// or syntax errors: the whole file is scanned first, and split with the
/// scanner where the parser fails.
fn split_scanned<T>(
    file: &SourceFile,
    known: impl Fn(&str) -> Option<(T, Range<usize>)>,
    each: impl Fn(&NodeEnum) -> T,
) -> Result<Vec<ParsedStatement<T>>, Vec<Diagnostic>> {
    let text = file.text.as_str();
    let tokens = match pg_query::scan(text) {
        Ok(result) => result.tokens,
        Err(e) => return Err(vec![syntax_error(file, text, 0, &e.to_string())]),
    };
    // COPY ... FROM stdin is followed by data up to a `\.` line: blank the
    // data out (keeping every offset) so it is neither split nor parsed; the
    // COPY statement itself is refused as data.
    let (text, data_regions) = blank_copy_data(text, &tokens);
    let text = text.as_str();
    let in_data = |at: usize| data_regions.iter().any(|(s, e)| (*s..*e).contains(&at));

    let mut problems = Vec::new();
    for token in tokens
        .iter()
        .filter(|t| t.token == BACKSLASH_TOKEN && !in_data(t.start as usize))
    {
        let start = token.start as usize;
        let end = text[start..].find('\n').map(|i| start + i).unwrap_or(text.len());
        let command = text[start..end].trim_end();
        problems.push(
            Diagnostic::new(
                Code::MetaCommand,
                format!("`{command}` is a psql meta-command, not SQL"),
            )
            .at(span(file, start, start + command.len()), "psql meta-command")
            .help(
                "remove it: converge reads every .sql file under the schema paths itself, \
                 in dependency order",
            ),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // The parser splits exactly (it knows BEGIN ATOMIC ... END bodies) but
    // fails on the first error; the scanner splits broken text too, so
    // errors can be located statement by statement.
    let pieces = match pg_query::split_with_parser(text).or_else(|_| pg_query::split_with_scanner(text)) {
        Ok(pieces) => pieces,
        Err(e) => return Err(vec![syntax_error(file, text, 0, &e.to_string())]),
    };
    // The scanner drops an unfinished last statement (an unclosed
    // parenthesis, say): text outside every piece is a syntax error.
    let ranges: Vec<(usize, usize)> = pieces
        .iter()
        .map(|p| {
            let offset = offset_in(text, p);
            (offset, offset + p.len())
        })
        .collect();
    // Pieces come in text order and do not overlap: the piece that may hold
    // `at` is the last one starting at or before it.
    let in_piece = |at: usize| {
        let i = ranges.partition_point(|(s, _)| *s <= at);
        i > 0 && at < ranges[i - 1].1
    };
    let stray = tokens.iter().find(|t| {
        let at = t.start as usize;
        t.token != SQL_COMMENT_TOKEN
            && t.token != C_COMMENT_TOKEN
            && t.token != b';' as i32
            && !in_data(at)
            && !in_piece(at)
    });
    if let Some(t) = stray {
        return Err(vec![syntax_error(
            file,
            text,
            t.start as usize,
            "this statement is not complete (an unclosed parenthesis or quote?)",
        )]);
    }
    // Each piece with the range from its first token to its last (pieces of
    // only comments are left out).
    let mut located = Vec::with_capacity(pieces.len());
    let mut next_token = 0;
    for piece in pieces {
        let offset = offset_in(text, piece);
        let piece_end = offset + piece.len();
        // The statement starts at its first token that is not a comment.
        while next_token < tokens.len() && (tokens[next_token].start as usize) < offset {
            next_token += 1;
        }
        let mut first = None;
        let mut last_end = offset;
        let mut i = next_token;
        while i < tokens.len() && (tokens[i].start as usize) < piece_end {
            let t = &tokens[i];
            if t.token != SQL_COMMENT_TOKEN && t.token != C_COMMENT_TOKEN {
                first.get_or_insert(t.start as usize);
                last_end = t.end as usize;
            }
            i += 1;
        }
        next_token = i;
        if let Some(start) = first {
            located.push((piece, Some(start..last_end.max(start))));
        }
    }
    parse_pieces(file, text, located, known, each)
}

/// Parses each piece of `text` (a slice of it, with the range from its first
/// token to its last when already found), but those `known` has the answer
/// for.
///
/// On one thread: the parse trees are thousands of small allocations made
/// and freed. With glibc's allocator kept to one arena, two threads
/// contended for its lock (at 5,000 tables 4.4–4.8 s on two threads, 3.3–3.8
/// s on one); with mimalloc (`allocator`), two threads parse in 1.66–1.73 s
/// and one in 1.92–1.96 s, for ~0.5 s more CPU (user and system), which a
/// cold plan's read of the target shares the 2 cores with.
fn parse_pieces<T>(
    file: &SourceFile,
    text: &str,
    located: Vec<(&str, Option<Range<usize>>)>,
    known: impl Fn(&str) -> Option<(T, Range<usize>)>,
    each: impl Fn(&NodeEnum) -> T,
) -> Result<Vec<ParsedStatement<T>>, Vec<Diagnostic>> {
    /// A piece's token range and what its statements were made into, or
    /// why it does not parse (`None`: only comments).
    type Parsed<T> = Option<(Range<usize>, Result<Vec<T>, String>)>;
    let parsed: Vec<Parsed<T>> = located
        .iter()
        .map(|(piece, tokens)| {
            let offset = offset_in(text, piece);
            let found = known(piece);
            let tokens = match (tokens, &found) {
                (Some(tokens), _) => tokens.clone(),
                (None, Some((_, relative))) => offset + relative.start..offset + relative.end,
                (None, None) => match token_range(piece) {
                    Ok(Some(relative)) => offset + relative.start..offset + relative.end,
                    // Only comments: no statement.
                    Ok(None) => return None,
                    Err(e) => return Some((offset..offset + piece.len(), Err(e))),
                },
            };
            if let Some((t, _)) = found {
                return Some((tokens, Ok(vec![t])));
            }
            let nodes = match pg_query::parse(piece, 0) {
                Ok(result) => Ok(result
                    .protobuf
                    .stmts
                    .iter()
                    .filter_map(|raw| raw.stmt.as_ref().and_then(|n| n.node.as_ref()))
                    .map(&each)
                    .collect()),
                Err(e) => Err(e.to_string()),
            };
            Some((tokens, nodes))
        })
        .collect();
    let mut problems = Vec::new();
    let mut statements = Vec::with_capacity(located.len());
    for ((piece, _), result) in located.into_iter().zip(parsed) {
        let Some((tokens, nodes)) = result else { continue };
        let offset = offset_in(text, piece);
        match nodes {
            Ok(nodes) => {
                let alone = nodes.len() == 1;
                let piece = offset..offset + piece.len();
                statements.extend(nodes.into_iter().map(|node| ParsedStatement {
                    start: tokens.start,
                    end: tokens.end,
                    node,
                    piece: piece.clone(),
                    alone,
                }))
            }
            Err(e) => problems.push(syntax_error(file, text, offset, &e)),
        }
    }
    if problems.is_empty() {
        Ok(statements)
    } else {
        Err(problems)
    }
}

/// Where `piece`, a slice of `text`, starts in it.
fn offset_in(text: &str, piece: &str) -> usize {
    piece.as_ptr() as usize - text.as_ptr() as usize
}

/// The range of `piece` from its first token that is not a comment to the
/// end of its last one, or `None` when it holds only comments.
fn token_range(piece: &str) -> Result<Option<Range<usize>>, String> {
    let tokens = pg_query::scan(piece).map_err(|e| e.to_string())?.tokens;
    let mut words = tokens
        .iter()
        .filter(|t| t.token != SQL_COMMENT_TOKEN && t.token != C_COMMENT_TOKEN);
    let Some(first) = words.next() else { return Ok(None) };
    let end = words.next_back().unwrap_or(first).end as usize;
    Ok(Some(first.start as usize..end.max(first.start as usize)))
}

/// Replaces the data lines after each `COPY ... FROM stdin` (up to and
/// including the `\.` line) with spaces; returns the new text and the
/// blanked byte ranges.
fn blank_copy_data(text: &str, tokens: &[pg_query::protobuf::ScanToken]) -> (String, Vec<(usize, usize)>) {
    let mut regions = Vec::new();
    let words: Vec<&pg_query::protobuf::ScanToken> = tokens
        .iter()
        .filter(|t| t.token != SQL_COMMENT_TOKEN && t.token != C_COMMENT_TOKEN)
        .collect();
    let word = |t: &pg_query::protobuf::ScanToken| text[t.start as usize..t.end as usize].to_ascii_lowercase();
    let mut i = 0;
    while i < words.len() {
        if word(words[i]) == "copy" {
            // Find this statement's end and whether it reads FROM stdin.
            let mut j = i;
            let mut from_stdin = false;
            while j < words.len() && words[j].token != b';' as i32 {
                if word(words[j]) == "from" && words.get(j + 1).is_some_and(|n| word(n) == "stdin") {
                    from_stdin = true;
                }
                j += 1;
            }
            if from_stdin && j < words.len() {
                let data_start = words[j].end as usize;
                let end_marker = text[data_start..]
                    .match_indices("\n\\.")
                    .map(|(k, _)| data_start + k + 1)
                    .next();
                let data_end = match end_marker {
                    Some(m) => text[m..].find('\n').map(|k| m + k).unwrap_or(text.len()),
                    None => text.len(),
                };
                regions.push((data_start, data_end));
                while i < words.len() && (words[i].start as usize) < data_end {
                    i += 1;
                }
                continue;
            }
        }
        i += 1;
    }
    if regions.is_empty() {
        return (text.to_string(), regions);
    }
    let mut bytes = text.as_bytes().to_vec();
    for (s, e) in &regions {
        for b in &mut bytes[*s..*e] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // Every byte of a region (whole characters, between a `;` and a line
    // end) became an ASCII space, so the text is still UTF-8 of equal length.
    let blanked = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (blanked, regions)
}

/// A syntax error in `text[offset..]`, placed where the C parser's cursor is.
fn syntax_error(file: &SourceFile, text: &str, offset: usize, message: &str) -> Diagnostic {
    let rest = &text[offset..];
    let (message, at) = match cursor::parse_error(rest) {
        Some((msg, Some(chars))) => (msg, offset + char_to_byte(rest, chars)),
        Some((msg, None)) => (msg, offset + leading_space(rest)),
        None => (clean(message), offset + leading_space(rest)),
    };
    let end = token_end(text, at);
    Diagnostic::new(Code::Syntax, message)
        .at(span(file, at, end), "PostgreSQL's parser stops here")
        .help("fix the SQL; converge parses desired files with PostgreSQL's own grammar")
}

fn clean(message: &str) -> String {
    message
        .trim_start_matches("Error parsing query: ")
        .trim_start_matches("Parse(\"")
        .to_string()
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The end of the token starting at `at` (at least one character).
fn token_end(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let rest = &text[at..];
    let word = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    let len = if word == 0 {
        rest.chars().next().map(|c| c.len_utf8()).unwrap_or(0)
    } else {
        word
    };
    at + len
}

fn span(file: &SourceFile, start: usize, end: usize) -> Span {
    Span {
        path: file.path.clone(),
        start,
        end,
    }
}

/// The C parser's plain entry point, for the cursor position of an error.
mod cursor {
    use std::ffi::{CStr, CString, c_char, c_int};

    #[repr(C)]
    struct PgQueryError {
        message: *mut c_char,
        funcname: *mut c_char,
        filename: *mut c_char,
        lineno: c_int,
        cursorpos: c_int,
        context: *mut c_char,
    }

    #[repr(C)]
    struct PgQueryParseResult {
        parse_tree: *mut c_char,
        stderr_buffer: *mut c_char,
        error: *mut PgQueryError,
    }

    // Linked from the libpg_query static library that the pg_query crate builds.
    unsafe extern "C" {
        fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
        fn pg_query_free_parse_result(result: PgQueryParseResult);
    }

    /// Parses `sql` and, if it fails, returns the message and the 0-based
    /// character position of the error (when the parser knows one).
    pub fn parse_error(sql: &str) -> Option<(String, Option<usize>)> {
        let input = CString::new(sql).ok()?;
        // SAFETY: `input` is a valid NUL-terminated string that outlives the
        // call; the result is read only before it is freed, exactly once.
        unsafe {
            let result = pg_query_parse(input.as_ptr());
            let found = if result.error.is_null() {
                None
            } else {
                let error = &*result.error;
                let message = if error.message.is_null() {
                    String::from("syntax error")
                } else {
                    CStr::from_ptr(error.message).to_string_lossy().into_owned()
                };
                let position = (error.cursorpos > 0).then(|| error.cursorpos as usize - 1);
                Some((message, position))
            };
            pg_query_free_parse_result(result);
            found
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile {
            path: "t.sql".into(),
            text: text.into(),
        }
    }

    #[test]
    fn statements_start_after_leading_comments() {
        let f = file("-- about a\ncreate table a (id int);\n/* b */ create table b (id int);");
        let stmts = parse_file(&f).unwrap();
        assert_eq!(stmts.len(), 2);
        assert!(f.text[stmts[0].start..].starts_with("create table a"));
        assert_eq!(&f.text[stmts[1].start..stmts[1].end], "create table b (id int)");
    }

    #[test]
    fn syntax_error_points_at_the_offending_token() {
        let f = file("create table a (id int);\ncreate tabel b (x int);\n");
        let problems = parse_file(&f).unwrap_err();
        assert_eq!(problems.len(), 1);
        let label = problems[0].primary.as_ref().unwrap();
        assert_eq!(&f.text[label.span.start..label.span.end], "tabel");
        assert!(problems[0].message.contains("syntax error"), "{}", problems[0].message);
    }

    #[test]
    fn meta_commands_are_refused_where_they_are() {
        let f = file("create table a (id int);\n\\i other.sql\n");
        let problems = parse_file(&f).unwrap_err();
        assert_eq!(problems[0].code, Code::MetaCommand);
        let label = problems[0].primary.as_ref().unwrap();
        assert_eq!(&f.text[label.span.start..label.span.end], "\\i other.sql");
    }

    #[test]
    fn an_unfinished_last_statement_is_not_dropped() {
        let f = file("create table a (id int);\ncreate table b (x numeric(10,2 not null);\n");
        let problems = parse_file(&f).unwrap_err();
        let label = problems[0].primary.as_ref().unwrap();
        assert_eq!(&f.text[label.span.start..label.span.end], "not");
    }

    #[test]
    fn copy_data_is_skipped_and_copy_is_refused_later() {
        let f = file("create table a (id int);\ncopy a from stdin;\n1\n2\n\\.\ncreate table b (id int);\n");
        let stmts = parse_file(&f).unwrap();
        assert_eq!(stmts.len(), 3);
        assert!(matches!(stmts[1].node, NodeEnum::CopyStmt(_)));
    }

    #[test]
    fn splitting_without_scanning_the_file_finds_what_scanning_it_finds() {
        let texts = [
            "-- about a\ncreate table a (id int);\n/* b */ create table b (id int);",
            "create table a (id int) -- trailing\n;\n\n/* only a comment */\n",
            "create function f() returns int language sql begin atomic select 1; select 2; end;\n\
             create view v as select $$;$$ as x /* ; */;",
            "/* nested /* comment */ still */ create schema s; ; ;create table s.t (\"a;b\" text default ';');",
            "comment on table a is 'it''s -- not a comment';",
        ];
        let shape = |stmts: Vec<ParsedStatement>| {
            stmts
                .into_iter()
                .map(|s| (s.start, s.end, s.piece, s.alone, format!("{:?}", s.node)))
                .collect::<Vec<_>>()
        };
        for text in texts {
            let f = file(text);
            assert!(split_whole(text, None).is_some(), "the parser accepts {text:?}");
            let none = |_: &str| None::<(NodeEnum, Range<usize>)>;
            let whole = shape(parse_file(&f).unwrap());
            let scanned = shape(split_scanned(&f, none, NodeEnum::clone).unwrap());
            assert_eq!(whole, scanned, "{text:?}");
            assert!(!whole.is_empty());
        }
        // Where COPY data could be, or the parser refuses the text, the file
        // is scanned.
        assert!(split_whole("create table a (id int);\nCoPy a from stdin;\n", None).is_none());
        assert!(split_whole("create table a (id int);\n\\i b.sql\n", None).is_none());
    }

    #[test]
    fn unterminated_string_is_a_located_syntax_error() {
        let f = file("create table a (id int);\nselect 'oops\n");
        let problems = parse_file(&f).unwrap_err();
        let label = problems[0].primary.as_ref().unwrap();
        assert_eq!(label.span.start, f.text.find('\'').unwrap());
    }
}
