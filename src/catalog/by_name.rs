//! A few objects of one owner looked up by name: a table's constraints.
//!
//! A `BTreeMap` holds even one entry in a node with room for eleven, each
//! with a copy of its key: ~2.2 KB for a table's constraints (a key and a
//! `Constraint` are ~200 bytes), where a table has four on average. At
//! 5,000 tables that is ~8 MiB more per catalog than the constraints
//! themselves, and a plan holds two catalogs. `ByName` is the values alone,
//! in one list kept in name order (each value knows its name), so lookups
//! are a binary search and iteration is in the map's order.
//!
//! It is written as the list of its values in name order, as `keyed` writes
//! the maps: a catalog's JSON and its cached form are the same as with a map.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that carries its own name.
pub trait Named {
    fn name(&self) -> &str;
}

/// Values in name order, each name once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByName<V> {
    values: Vec<V>,
}

impl<V> Default for ByName<V> {
    fn default() -> Self {
        ByName { values: Vec::new() }
    }
}

impl<V: Named> ByName<V> {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.values.binary_search_by(|v| v.name().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|at| &self.values[at])
    }

    /// The value, to change anything but its name (which would leave it out
    /// of order).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.find(name).ok().map(|at| &mut self.values[at])
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Adds `value` under its name, giving back the value it replaces.
    pub fn insert(&mut self, value: V) -> Option<V> {
        match self.find(value.name()) {
            Ok(at) => Some(std::mem::replace(&mut self.values[at], value)),
            Err(at) => {
                self.values.insert(at, value);
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<V> {
        self.find(name).ok().map(|at| self.values.remove(at))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(Named::name)
    }

    /// (name, value) pairs, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.values.iter().map(|v| (v.name(), v))
    }
}

impl<V> ByName<V> {
    /// The values, in name order.
    pub fn values(&self) -> std::slice::Iter<'_, V> {
        self.values.iter()
    }

    /// The values in name order, to change anything but their names.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, V> {
        self.values.iter_mut()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<V: Named> FromIterator<V> for ByName<V> {
    /// The values in name order; of values with the same name, the last is
    /// kept (as collecting a map would).
    fn from_iter<I: IntoIterator<Item = V>>(values: I) -> Self {
        let mut values: Vec<V> = values.into_iter().collect();
        // Stable: values of one name stay in the order given.
        values.sort_by(|a, b| a.name().cmp(b.name()));
        let mut kept: Vec<V> = Vec::with_capacity(values.len());
        for v in values {
            match kept.last_mut() {
                Some(last) if last.name() == v.name() => *last = v,
                _ => kept.push(v),
            }
        }
        kept.shrink_to_fit();
        ByName { values: kept }
    }
}

impl<V: Serialize> Serialize for ByName<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.values)
    }
}

impl<'de, V: Named + Deserialize<'de>> Deserialize<'de> for ByName<V> {
    /// Read back as a map of them would be: put in name order, the last of
    /// two with one name kept.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<V>::deserialize(deserializer)?;
        if values.is_sorted_by(|a, b| a.name() < b.name()) {
            return Ok(ByName { values });
        }
        Ok(values.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Item {
        name: String,
        value: u32,
    }

    impl Named for Item {
        fn name(&self) -> &str {
            &self.name
        }
    }

    fn item(name: &str, value: u32) -> Item {
        Item {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn behaves_as_a_map_by_name() {
        let mut by_name = ByName::default();
        let mut map = BTreeMap::new();
        let steps = [("c", 1), ("a", 2), ("b", 3), ("a", 4), ("d", 5), ("c", 6)];
        for (name, value) in steps {
            assert_eq!(
                by_name.insert(item(name, value)),
                map.insert(name.to_string(), item(name, value))
            );
        }
        assert_eq!(by_name.remove("b"), map.remove("b"));
        assert_eq!(by_name.remove("x"), map.remove("x"));
        if let Some(v) = by_name.get_mut("d") {
            v.value = 9;
        }
        if let Some(v) = map.get_mut("d") {
            v.value = 9;
        }
        assert_eq!(by_name.values().collect::<Vec<_>>(), map.values().collect::<Vec<_>>());
        assert_eq!(
            by_name.keys().collect::<Vec<_>>(),
            map.keys().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(by_name.len(), map.len());
        for name in ["a", "b", "c", "d", "e"] {
            assert_eq!(by_name.get(name), map.get(name), "{name}");
            assert_eq!(by_name.contains_key(name), map.contains_key(name));
        }
        let collected: ByName<Item> = steps.iter().map(|&(n, v)| item(n, v)).collect();
        let collected_map: BTreeMap<String, Item> = steps.iter().map(|&(n, v)| (n.to_string(), item(n, v))).collect();
        assert_eq!(
            collected.values().collect::<Vec<_>>(),
            collected_map.values().collect::<Vec<_>>()
        );
    }

    #[test]
    fn written_and_read_back_as_the_list_of_its_values_in_name_order() {
        let by_name: ByName<Item> = [item("b", 1), item("a", 2)].into_iter().collect();
        let json = serde_json::to_string(&by_name).unwrap();
        assert_eq!(json, r#"[{"name":"a","value":2},{"name":"b","value":1}]"#);
        assert_eq!(serde_json::from_str::<ByName<Item>>(&json).unwrap(), by_name);
        // Out of order, or a name twice, as a map would be read.
        let read: ByName<Item> =
            serde_json::from_str(r#"[{"name":"b","value":1},{"name":"a","value":2},{"name":"b","value":3}]"#).unwrap();
        assert_eq!(read.values().map(|i| i.value).collect::<Vec<_>>(), vec![2, 3]);
        let bytes = postcard::to_stdvec(&by_name).unwrap();
        assert_eq!(postcard::from_bytes::<ByName<Item>>(&bytes).unwrap(), by_name);
    }
}
