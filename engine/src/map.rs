//! [`Map`]: a map kept as a vector sorted by key.
//!
//! The engine's maps hold a handful to a few hundred entries (answers, contact fields, click
//! ids, score categories). A sorted vector serves them as well as a `BTreeMap`, iterates in the
//! same key order, and costs a fraction of the code: the B-tree's node handling was about 27 KB
//! of the widget's wasm, which every visitor downloads.

use std::borrow::Borrow;

/// A map from `K` to `V`, iterated in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for Map<K, V> {
    fn default() -> Map<K, V> {
        Map {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> Map<K, V> {
    /// An empty map.
    pub fn new() -> Map<K, V> {
        Map::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// The value for `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }
}

impl<K, V> Map<K, V> {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for Map<K, V> {
    /// Later entries win over earlier ones with the same key, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Map<K, V> {
        let mut map = Map::new();
        for (k, v) in items {
            map.insert(k, v);
        }
        map
    }
}

impl<K, V> IntoIterator for Map<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for Map<K, V> {
    type Output = V;

    /// # Panics
    /// When `key` is not in the map, like `BTreeMap`'s index.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

#[cfg(feature = "serde")]
impl<'de, K, V> serde::Deserialize<'de> for Map<K, V>
where
    K: Ord + serde::Deserialize<'de>,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K, V> serde::de::Visitor<'de> for Visitor<K, V>
        where
            K: Ord + serde::Deserialize<'de>,
            V: serde::Deserialize<'de>,
        {
            type Value = Map<K, V>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Map<K, V>, A::Error> {
                // Sorted once at the end: inserting one by one is quadratic for keys that
                // arrive in reverse order, and a posted document is untrusted.
                let mut entries: Vec<(K, V)> = Vec::new();
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                // A stable sort keeps repeated keys in arrival order; the last one wins.
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                let mut deduped: Vec<(K, V)> = Vec::with_capacity(entries.len());
                for entry in entries {
                    match deduped.last_mut() {
                        Some(last) if last.0 == entry.0 => *last = entry,
                        _ => deduped.push(entry),
                    }
                }
                Ok(Map { entries: deduped })
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_btree_map() {
        let mut map: Map<String, u32> = Map::new();
        let mut reference = std::collections::BTreeMap::new();
        for (i, key) in ["m", "c", "x", "c", "a", "m", "z"].iter().enumerate() {
            assert_eq!(
                map.insert((*key).to_owned(), i as u32),
                reference.insert((*key).to_owned(), i as u32)
            );
        }
        assert!(map.iter().eq(reference.iter()));
        assert_eq!(map.get("c"), Some(&3));
        assert_eq!(map["x"], 2);
        assert_eq!(map.remove("m"), reference.remove("m"));
        assert_eq!(map.remove("nope"), None);
        assert!(!map.contains_key("m") && map.contains_key("z"));
        assert_eq!(map.len(), reference.len());
        map.retain(|k, _| k != "a");
        assert_eq!(map.keys().collect::<Vec<_>>(), ["c", "x", "z"]);
        let json: Map<String, u32> =
            serde_json::from_str(r#"{"z": 1, "b": 2, "a": 3, "b": 4}"#).unwrap();
        assert_eq!(
            json.into_iter().collect::<Vec<_>>(),
            [("a".into(), 3), ("b".into(), 4), ("z".into(), 1)]
        );
        let collected: Map<&str, u32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        assert_eq!(
            collected.into_iter().collect::<Vec<_>>(),
            [("a", 2), ("b", 3)]
        );
    }
}
