//! Where a desired file was cut into statements, kept for its next version:
//! after a small edit of a big file, only the text between the last
//! unchanged cut before the edit and the first unchanged cut after it is
//! split by the parser again (on the 7 MB benchmark file the parser's split
//! of the whole text costs ~0.14 s; the hashes that find the unchanged parts
//! ~5 ms).
//!
//! The parser's pieces run from a statement's first token to the `;` that
//! ends it (comments and white space between statements belong to none),
//! and the lexer is in its initial state wherever a token starts. So when
//! the text up to a statement's first token is what it was, the split up to
//! there is what it was; when the text from a statement's first token to
//! the end is what it was, and what comes before it ends with a `;` token
//! and then only complete comments or white space, the split from there is
//! what it was, moved by the difference in length; and the text in between,
//! parsed alone, splits as it does within the whole text. Anything that
//! does not meet these conditions is split whole, as without the cuts.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The statement pieces of one version of a file, as the parser cut it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cuts {
    /// The length of the text.
    len: usize,
    pieces: Vec<Cut>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cut {
    /// Byte offset of the piece in the text.
    start: usize,
    /// Its length (it ends before its `;`).
    len: usize,
    /// sha256 of the text from the piece's start (the text's start, for
    /// the first) to the next piece's start (or the text's end): the piece
    /// and what follows it, so that the hashes cover the whole text.
    through: [u8; 32],
}

impl Cuts {
    /// The cuts of `text` into `pieces` (slices of it, in order, as the
    /// parser returned them).
    pub fn of(text: &str, pieces: &[&str]) -> Cuts {
        let starts: Vec<usize> = pieces.iter().map(|p| offset_in(text, p)).collect();
        let pieces = pieces
            .iter()
            .zip(&starts)
            .enumerate()
            .map(|(i, (piece, &start))| {
                let next = starts.get(i + 1).copied().unwrap_or(text.len());
                let from = if i == 0 { 0 } else { start };
                Cut {
                    start,
                    len: piece.len(),
                    through: hash(&text[from..next]),
                }
            })
            .collect();
        Cuts {
            len: text.len(),
            pieces,
        }
    }

    /// The pieces of `text`, a new version of the text these cuts are of,
    /// with only the changed part split again; `None` when that cannot be
    /// known to give what splitting the whole text gives (then the caller
    /// splits it whole).
    pub fn split_again<'t>(&self, text: &'t str) -> Option<Vec<&'t str>> {
        let n = self.pieces.len();
        if n == 0 {
            return None;
        }
        // The text piece i's hash covers.
        let begin_of = |i: usize| if i == 0 { 0 } else { self.pieces[i].start };
        let end_of = |i: usize| self.pieces.get(i + 1).map_or(self.len, |c| c.start);
        // Unchanged from the start: piece i and what follows it, up to the
        // next piece's start, are the same text at the same place.
        let mut kept_before = 0;
        while kept_before < n {
            let cut = &self.pieces[kept_before];
            match text.get(begin_of(kept_before)..end_of(kept_before)) {
                Some(now) if hash(now) == cut.through => kept_before += 1,
                _ => break,
            }
        }
        if kept_before == n {
            if text.len() == self.len {
                // The same text.
                return Some(self.pieces.iter().map(|c| &text[c.start..c.start + c.len]).collect());
            }
            // Text added at the end: split again from the last piece's start
            // (where a statement starts), which it may continue.
            kept_before = n - 1;
        }
        // Unchanged to the end: the same text, moved by the change in length.
        let moved = |at: usize| (at + text.len()).checked_sub(self.len);
        let mut kept_after = n;
        while kept_after > kept_before {
            let i = kept_after - 1;
            let (Some(start), Some(end)) = (moved(begin_of(i)), moved(end_of(i))) else {
                break;
            };
            match text.get(start..end) {
                Some(now) if hash(now) == self.pieces[i].through => kept_after -= 1,
                _ => break,
            }
        }
        // The text in between: from the first piece not kept before (or the
        // start of the text) to the first piece kept after (or the start of
        // the text that the first piece's hash covers, or the end).
        let from = begin_of(kept_before);
        let to = if kept_after < n {
            moved(begin_of(kept_after))?
        } else {
            text.len()
        };
        if from > to || !text.is_char_boundary(from) || !text.is_char_boundary(to) {
            return None;
        }
        let between = &text[from..to];
        // What is kept after must follow a `;` token and nothing but
        // complete comments and white space: the end of the text in
        // between, or (nothing in between) what came before `from`.
        if kept_after < n && !between.is_empty() && !ends_a_statement(between) {
            return None;
        }
        let middle = pg_query::split_with_parser(between).ok()?;
        let mut pieces: Vec<&'t str> = Vec::with_capacity(n + middle.len());
        pieces.extend(
            self.pieces[..kept_before]
                .iter()
                .map(|c| &text[c.start..c.start + c.len]),
        );
        pieces.extend(middle);
        for cut in &self.pieces[kept_after..] {
            let start = moved(cut.start)?;
            pieces.push(text.get(start..start + cut.len)?);
        }
        Some(pieces)
    }
}

/// Whether `text`, which starts where a statement could, ends where one
/// could, whatever follows it: its last token that is not a comment is a
/// `;` (or it has none), and after it come only comments and white space,
/// none of which text appended could continue (a `--` comment must end with
/// its line).
fn ends_a_statement(text: &str) -> bool {
    const SQL_COMMENT: i32 = pg_query::protobuf::Token::SqlComment as i32;
    const C_COMMENT: i32 = pg_query::protobuf::Token::CComment as i32;
    let Ok(scanned) = pg_query::scan(text) else {
        return false;
    };
    let tokens = &scanned.tokens;
    let ended = tokens
        .iter()
        .rev()
        .find(|t| t.token != SQL_COMMENT && t.token != C_COMMENT)
        .is_none_or(|t| t.token == i32::from(b';'));
    let closed = match tokens.last() {
        None => text.chars().all(char::is_whitespace),
        Some(last) if (last.end as usize) < text.len() => text[last.end as usize..].chars().all(char::is_whitespace),
        Some(last) => last.token != SQL_COMMENT,
    };
    ended && closed
}

fn hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn offset_in(text: &str, piece: &str) -> usize {
    piece.as_ptr() as usize - text.as_ptr() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuts(text: &str) -> Cuts {
        Cuts::of(text, &pg_query::split_with_parser(text).unwrap())
    }

    /// The pieces as offsets, to compare splits of one text.
    fn at(text: &str, pieces: &[&str]) -> Vec<(usize, usize)> {
        pieces.iter().map(|p| (offset_in(text, p), p.len())).collect()
    }

    fn check(before: &str, after: &str) -> bool {
        let whole = pg_query::split_with_parser(after).ok();
        match cuts(before).split_again(after) {
            Some(again) => {
                let whole = whole.expect("split again, but the whole text does not split");
                assert_eq!(
                    at(after, &again),
                    at(after, &whole),
                    "before:\n{before}\nafter:\n{after}"
                );
                true
            }
            None => false,
        }
    }

    const TEXT: &str = "-- the schema\ncreate schema app;\n\ncreate table app.a (id int primary key, note text default ';');\n\
        /* b; c */ create table app.b (id int references app.a);\n;;\ncreate function app.f() returns int language sql\n\
        begin atomic select 1; select 2; end;\ncreate view app.v as select $$;$$ as x;\ncomment on table app.a is 'a -- b';\n\
        create index on app.b (id)";

    #[test]
    fn edits_split_again_as_the_whole_text_splits() {
        let edits: Vec<String> = vec![
            TEXT.to_string(),
            TEXT.replace("note text", "note text, extra int"),
            TEXT.replace("create schema app;", "create schema app; create table app.z (x int);"),
            TEXT.replace("select 1; select 2;", "select 1; select 3; select 4;"),
            TEXT.replace("'a -- b'", "'a -- b; c'"),
            TEXT.replace("/* b; c */", "/* b; c */ /* d */"),
            TEXT.replace(";;", ";"),
            TEXT.replace("create index on app.b (id)", "create index on app.b (id);\n"),
            format!("{TEXT};\ncreate table app.c (x int);"),
            format!("create table app.c (x int);\n{TEXT}"),
            TEXT.replace("create view app.v as select $$;$$ as x;\n", ""),
        ];
        let mut whole = Vec::new();
        for (i, after) in edits.iter().enumerate() {
            if !check(TEXT, after) {
                whole.push((i, "forward"));
            }
            if !check(after, TEXT) {
                whole.push((i, "back"));
            }
        }
        assert!(whole.len() <= 2, "most edits are split again; split whole: {whole:?}");
    }

    #[test]
    fn what_could_swallow_the_text_after_it_is_split_whole() {
        // A `;` left inside a comment or a string that now runs on: the
        // change must not be taken as ending there.
        for after in [
            TEXT.replace(
                "comment on table app.a is 'a -- b';",
                "comment on table app.a is 'a -- b'; -- no end",
            ),
            TEXT.replace(
                "create view app.v as select $$;$$ as x;",
                "create view app.v as select $$;$$ as x; /*",
            ),
            TEXT.replace("note text default ';');", "note text default ';'); '"),
            TEXT.replace("create schema app;", "create schema app"),
        ] {
            if let Some(again) = cuts(TEXT).split_again(&after) {
                let whole = pg_query::split_with_parser(&after).expect("split again, so it splits whole");
                assert_eq!(at(&after, &again), at(&after, &whole), "{after}");
            }
        }
    }

    #[test]
    fn random_edits_split_again_as_the_whole_text_splits() {
        // A small deterministic generator: inserts and deletes of statement
        // parts, semicolons, comments and quotes at many places.
        let mut state = 0x2545_f491_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let inserts = [
            ";",
            " ",
            "\n",
            "-- x\n",
            "/* ; */",
            "'",
            "$$",
            "create table app.q (y int);",
            ", z int",
            "(",
        ];
        let (mut again, mut parsing) = (0, 0);
        for _ in 0..2000 {
            let mut after = TEXT.to_string();
            let mut at_ = next(after.len());
            while !after.is_char_boundary(at_) {
                at_ -= 1;
            }
            if next(3) == 0 {
                let mut end = (at_ + 1 + next(20)).min(after.len());
                while !after.is_char_boundary(end) {
                    end -= 1;
                }
                after.replace_range(at_..end, "");
            } else {
                after.insert_str(at_, inserts[next(inserts.len())]);
            }
            if pg_query::split_with_parser(&after).is_ok() {
                parsing += 1;
            }
            if check(TEXT, &after) {
                again += 1;
            }
        }
        assert!(
            again * 10 >= parsing * 8,
            "most edits that still parse are split again ({again} of {parsing})"
        );
    }
}
