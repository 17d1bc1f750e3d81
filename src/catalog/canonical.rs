//! The canonical JSON of a catalog, written without copying the catalog.
//!
//! A catalog's canonical form (see [`super::Catalog::canonical`]) lists the
//! columns of each table and the attributes of each composite type by name,
//! since their order is not part of the state converge converges. Sorting a
//! copy means cloning megabytes of catalog for every fingerprint; instead,
//! while [`write_json`] runs, those two lists serialize themselves sorted.
//! Every other serialization (plan files, the desired-catalog cache) keeps
//! their order.

use serde::{Serialize, Serializer};
use std::cell::Cell;

thread_local! {
    /// Set while this thread writes a canonical form.
    static CANONICAL: Cell<bool> = const { Cell::new(false) };
}

/// Writes `catalog`'s canonical JSON into `writer`: the same bytes as
/// serializing `catalog.canonical()`.
pub fn write_json<W: std::io::Write>(catalog: &super::Catalog, writer: W) -> serde_json::Result<()> {
    /// Clears the flag however serialization ends.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CANONICAL.with(|c| c.set(false));
        }
    }
    CANONICAL.with(|c| c.set(true));
    let _reset = Reset;
    serde_json::to_writer(writer, catalog)
}

/// A list whose order is not part of the canonical form: sorted by `name`
/// while a canonical form is written, as it is otherwise.
pub fn serialize_by_name<T, S>(items: &[T], serializer: S) -> Result<S::Ok, S::Error>
where
    T: Serialize + Named,
    S: Serializer,
{
    if CANONICAL.with(Cell::get) {
        let mut sorted: Vec<&T> = items.iter().collect();
        sorted.sort_by(|a, b| a.name().cmp(b.name()));
        serializer.collect_seq(sorted)
    } else {
        serializer.collect_seq(items)
    }
}

/// An item of a list the canonical form sorts by name.
pub trait Named {
    fn name(&self) -> &str;
}

impl Named for super::Column {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for super::CompositeAttribute {
    fn name(&self) -> &str {
        &self.name
    }
}

/// A catalog whose column and attribute lists are not in name order, for
/// the tests of the canonical form and of fingerprints.
#[cfg(test)]
pub(crate) fn unordered_catalog() -> super::Catalog {
    use super::{Catalog, Column, CompositeAttribute, CompositeType, QualifiedName, Table};
    let mut catalog = Catalog::default();
    let name = QualifiedName::new("public", "t");
    let column = |n: &str| Column {
        name: n.into(),
        data_type: "text".into(),
        ..Default::default()
    };
    catalog.tables.insert(
        name.clone(),
        Table {
            name: name.clone(),
            columns: vec![column("b"), column("c"), column("a")],
            ..Default::default()
        },
    );
    let attribute = |n: &str| CompositeAttribute {
        name: n.into(),
        data_type: "int4".into(),
        ..Default::default()
    };
    catalog.composite_types.insert(
        name.clone(),
        CompositeType {
            name,
            attributes: vec![attribute("y"), attribute("x")],
            ..Default::default()
        },
    );
    catalog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_json_is_that_of_the_sorted_copy_and_other_serializations_keep_the_order() {
        let catalog = unordered_catalog();
        let mut canonical = Vec::new();
        write_json(&catalog, &mut canonical).unwrap();
        assert_eq!(canonical, serde_json::to_vec(&catalog.canonical()).unwrap());
        // Afterwards, the same thread serializes in the catalog's own order.
        let plain = serde_json::to_string(&catalog).unwrap();
        assert!(plain.find("\"b\"").unwrap() < plain.find("\"a\"").unwrap(), "{plain}");
        assert_ne!(plain.as_bytes(), canonical.as_slice());
    }
}
