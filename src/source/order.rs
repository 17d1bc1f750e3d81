//! Ordering desired statements so each runs after the statements that create
//! what it needs, whatever file or position they were written in.
//!
//! Kahn's algorithm over "creates / references" edges; among the statements
//! that are ready, the lowest phase goes first (schemas, extensions, types,
//! sequences, tables, ...), then file order. Statements caught in a cycle keep
//! their file order at the end: PostgreSQL's error on loading them is the
//! clearest message for a schema that cannot exist.
//!
//! Preferred orderings (`soft`: keep an `ALTER DEFAULT PRIVILEGES` where it
//! stands among the CREATE statements around it) are kept where they do not
//! close a cycle with the required ones.

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
    add_soft(&mut edges, soft, nodes.len());
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

/// Adds the soft edges, dropping those inside a cycle until none is left.
fn add_soft(edges: &mut BTreeSet<(usize, usize)>, soft: &[(usize, usize)], count: usize) {
    let mut soft: BTreeSet<(usize, usize)> = soft.iter().copied().filter(|(a, b)| a != b).collect();
    while !soft.is_empty() {
        let mut g: petgraph::graph::DiGraph<(), ()> =
            petgraph::graph::DiGraph::with_capacity(count, edges.len() + soft.len());
        let ids: Vec<_> = (0..count).map(|_| g.add_node(())).collect();
        for &(a, b) in edges.iter().chain(soft.iter()) {
            g.add_edge(ids[a], ids[b], ());
        }
        let mut component = vec![usize::MAX; count];
        for (n, scc) in petgraph::algo::tarjan_scc(&g).into_iter().enumerate() {
            if scc.len() > 1 {
                for node in scc {
                    component[node.index()] = n;
                }
            }
        }
        let before = soft.len();
        soft.retain(|&(a, b)| component[a] == usize::MAX || component[a] != component[b]);
        if soft.len() == before {
            break;
        }
    }
    edges.extend(soft);
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
}
