//! Ordering desired statements so each runs after the statements that create
//! what it needs, whatever file or position they were written in.
//!
//! Kahn's algorithm over "creates / references" edges; among the statements
//! that are ready, the lowest phase goes first (schemas, extensions, types,
//! sequences, tables, ...), then file order. Statements caught in a cycle keep
//! their file order at the end: PostgreSQL's error on loading them is the
//! clearest message for a schema that cannot exist.

use super::classify::Key;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// What ordering needs to know of one statement.
pub struct Node<'a> {
    pub phase: u8,
    pub creates: &'a [Key],
    pub references: &'a [Key],
}

/// Returns the indexes of `nodes` in load order. `nodes` is in file order.
pub fn load_order(nodes: &[Node<'_>]) -> Vec<usize> {
    let mut creators: BTreeMap<&Key, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for k in n.creates {
            creators.entry(k).or_default().push(i);
        }
    }
    let mut waiting_on = vec![0usize; nodes.len()];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        let mut needs: Vec<usize> = n
            .references
            .iter()
            .filter_map(|k| creators.get(k))
            .flatten()
            .copied()
            .filter(|&c| c != i)
            .collect();
        needs.sort_unstable();
        needs.dedup();
        waiting_on[i] = needs.len();
        for c in needs {
            unblocks[c].push(i);
        }
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
        assert_eq!(load_order(&nodes), vec![3, 2, 0, 1]);
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
        assert_eq!(load_order(&nodes), vec![0, 1]);
    }
}
