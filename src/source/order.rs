//! Ordering desired statements so each runs after the statements that create
//! what it needs, whatever file or position they were written in.
//!
//! Kahn's algorithm over "creates / references" edges; among the statements
//! that are ready, the lowest phase goes first (schemas, extensions, types,
//! sequences, tables, ...), then file order. Statements caught in a cycle keep
//! their file order at the end: PostgreSQL's error on loading them is the
//! clearest message for a schema that cannot exist.
//!
//! Preferred orderings are kept where they do not close a cycle with the
//! required ones or with the preferences before them: first, a statement
//! that uses a name no statement creates runs after every `CREATE EXTENSION`
//! (the name may be the extension's); then (`soft`) an `ALTER DEFAULT
//! PRIVILEGES` keeps its place among the CREATE statements around it.

use super::classify::Key;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// What ordering needs to know of one statement.
pub struct Node<'a> {
    pub phase: u8,
    pub creates: &'a [Key],
    pub references: &'a [Key],
}

/// Returns the indexes of `nodes` in load order. `nodes` is in file order;
/// `soft` holds preferred (before, after) pairs.
pub fn load_order(nodes: &[Node<'_>], soft: &[(usize, usize)]) -> Vec<usize> {
    let mut creators: BTreeMap<&Key, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for k in n.creates {
            creators.entry(k).or_default().push(i);
        }
    }
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (i, n) in nodes.iter().enumerate() {
        for &c in n.references.iter().filter_map(|k| creators.get(k)).flatten() {
            if c != i {
                edges.insert((c, i));
            }
        }
    }
    // Extensions first among the preferences: they outrank the soft ones.
    let mut preferred = extension_edges(nodes, &creators);
    preferred.extend_from_slice(soft);
    add_soft(&mut edges, &preferred, nodes.len());
    let mut waiting_on = vec![0usize; nodes.len()];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for &(before, after) in &edges {
        waiting_on[after] += 1;
        unblocks[before].push(after);
    }
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting_on[*i] == 0)
        .map(|(i, n)| Reverse((n.phase, i)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    let mut done = vec![false; nodes.len()];
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        done[i] = true;
        for &next in &unblocks[i] {
            waiting_on[next] -= 1;
            if waiting_on[next] == 0 {
                ready.push(Reverse((nodes[next].phase, next)));
            }
        }
    }
    order.extend((0..nodes.len()).filter(|i| !done[*i]));
    order
}

/// An extension creates types, functions, relations and collations that no
/// statement names: a statement that uses such a name no statement creates
/// may need one, so it prefers to run after every `CREATE EXTENSION`.
fn extension_edges(nodes: &[Node<'_>], creators: &BTreeMap<&Key, Vec<usize>>) -> Vec<(usize, usize)> {
    let extensions: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.creates.iter().any(|k| matches!(k, Key::Extension(_))))
        .map(|(i, _)| i)
        .collect();
    if extensions.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let uses_unknown = n.references.iter().any(|k| {
            matches!(
                k,
                Key::Type(_) | Key::Function(_) | Key::Relation(_) | Key::Collation(_)
            ) && !creators.contains_key(k)
        });
        if uses_unknown {
            out.extend(extensions.iter().filter(|&&e| e != i).map(|&e| (e, i)));
        }
    }
    out
}

/// Adds the preferred edges in the order given, each unless it would close a
/// cycle with the edges already there.
fn add_soft(edges: &mut BTreeSet<(usize, usize)>, soft: &[(usize, usize)], count: usize) {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(a, b) in edges.iter() {
        next[a].push(b);
    }
    let mut seen = vec![usize::MAX; count];
    for (n, &(a, b)) in soft.iter().enumerate() {
        if a == b || edges.contains(&(a, b)) {
            continue;
        }
        // Does `b` already reach `a`? (`seen` marks visits of this search.)
        let mut stack = vec![b];
        let mut closes = false;
        seen[b] = n;
        while let Some(x) = stack.pop() {
            if x == a {
                closes = true;
                break;
            }
            for &y in &next[x] {
                if seen[y] != n {
                    seen[y] = n;
                    stack.push(y);
                }
            }
        }
        if !closes {
            edges.insert((a, b));
            next[a].push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn rel(n: &str) -> Key {
        Key::Relation(QualifiedName::new("public", n))
    }

    #[test]
    fn referenced_statements_come_first_then_phase_then_file_order() {
        let a_refs = [rel("b")];
        let a_creates = [rel("a")];
        let b_creates = [rel("b")];
        let c_creates = [rel("c")];
        let nodes = [
            Node {
                phase: 4,
                creates: &a_creates,
                references: &a_refs,
            },
            Node {
                phase: 9,
                creates: &[],
                references: &[],
            },
            Node {
                phase: 4,
                creates: &b_creates,
                references: &[],
            },
            Node {
                phase: 0,
                creates: &c_creates,
                references: &[],
            },
        ];
        assert_eq!(load_order(&nodes, &[]), vec![3, 2, 0, 1]);
    }

    #[test]
    fn cycles_keep_file_order_at_the_end() {
        let (a, b) = ([rel("a")], [rel("b")]);
        let nodes = [
            Node {
                phase: 4,
                creates: &a,
                references: &b,
            },
            Node {
                phase: 4,
                creates: &b,
                references: &a,
            },
        ];
        assert_eq!(load_order(&nodes, &[]), vec![0, 1]);
    }

    #[test]
    fn extensions_come_before_statements_using_names_nobody_creates() {
        // app/ (schema, a table of the extension's type), then an ALTER
        // DEFAULT PRIVILEGES, then extensions.sql: the preference to keep
        // the ALTER DEFAULT PRIVILEGES before CREATE EXTENSION gives way.
        let schema = [Key::Schema("app".into())];
        let table = [Key::Relation(QualifiedName::new("app", "t"))];
        let table_refs = [
            Key::Schema("app".into()),
            Key::Type(QualifiedName::new("public", "citext")),
        ];
        let extension = [Key::Extension("citext".into())];
        let nodes = [
            Node {
                phase: 0,
                creates: &schema,
                references: &[],
            },
            Node {
                phase: 4,
                creates: &table,
                references: &table_refs,
            },
            Node {
                phase: 1,
                creates: &[],
                references: &[],
            },
            Node {
                phase: 1,
                creates: &extension,
                references: &[],
            },
        ];
        assert_eq!(load_order(&nodes, &[(0, 2), (1, 2), (2, 3)]), vec![0, 3, 1, 2]);
    }
}
