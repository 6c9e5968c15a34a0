//! [`Map`]: a map kept as a vector sorted by key.
//!
//! The engine's maps hold a handful to a few hundred entries (answers, contact fields, click
//! ids, score categories). A sorted vector serves them as well as a `BTreeMap`, iterates in the
//! same key order, and costs a fraction of the code: the B-tree's node handling was about 27 KB
//! of the widget's wasm, which every visitor downloads.

use crate::prelude::*;
use core::borrow::Borrow;

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
        self.entries.binary_search_by(|(k, _)| {
            step(1);
            k.borrow().cmp(key)
        })
    }

    /// Sets `key` to `value`; returns the value it replaced. The entries after a new key move
    /// up one place: build a map of many keys with `collect` instead.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(core::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                step(self.entries.len() - at);
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

    /// Adds `key`, which sorts after every key in the map (checked in debug builds): no
    /// search and no move, and in the widget no copy of [`Map::insert`] for this map type.
    pub(crate) fn push_last(&mut self, key: K, value: V) {
        debug_assert!(self.entries.last().is_none_or(|(last, _)| *last < key));
        self.entries.push((key, value));
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let at = self.find(key).ok()?;
        step(self.entries.len() - at);
        Some(self.entries.remove(at).1)
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
    /// Later entries win over earlier ones with the same key, as with `BTreeMap`. Sorted once,
    /// not inserted one by one: each insert into the sorted vector moves the entries after it,
    /// which made reading a config with thousands of keys quadratic.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Map<K, V> {
        let items: Vec<(K, V)> = items.into_iter().collect();
        let order = sorted_indices(items.len(), &|a, b| items[a].0 < items[b].0);
        let mut slots: Vec<Option<(K, V)>> = items.into_iter().map(Some).collect();
        let mut entries: Vec<(K, V)> = Vec::with_capacity(slots.len());
        for at in order {
            let Some(entry) = slots[at].take() else {
                continue;
            };
            // The sort is stable: of equal keys, the later entry comes later and wins.
            match entries.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => entries.push(entry),
            }
        }
        Map { entries }
    }
}

/// The positions `0..n` in the order `less` gives, equal ones in their original order (a
/// bottom-up merge sort, O(n log n)). The standard library's sorts cost the widget kilobytes,
/// and an insertion sort is quadratic on input in reverse order. `less` is a trait object, so
/// the wasm holds one copy of the sort for every use.
pub(crate) fn sorted_indices(n: usize, less: &dyn Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut from = Vec::with_capacity(n);
    for i in 0..n {
        from.push(i);
    }
    let mut to = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = n.min(start + width);
            let end = n.min(start + 2 * width);
            let (mut left, mut right) = (start, mid);
            // `get_mut`, not indexing: the slicing panic path costs the widget its code and
            // texts. (`start < end <= n` always holds.)
            for slot in to.get_mut(start..end).unwrap_or_default() {
                // The right run's item goes first only when strictly less: that keeps it stable.
                let take_right =
                    right < end && (left >= mid || counted(less(from[right], from[left])));
                if take_right {
                    *slot = from[right];
                    right += 1;
                } else {
                    *slot = from[left];
                    left += 1;
                }
            }
            start = end;
        }
        core::mem::swap(&mut from, &mut to);
        width *= 2;
    }
    from
}

/// Where each id of a list sits, for lookups in O(log n). Validation looks ids up by the
/// thousand (overrides, conditions, translations, field mappings, repeats), and a scan of the
/// list per lookup made reading a large config quadratic.
pub(crate) struct Ids<'a> {
    /// Ids with their positions, sorted by id, then position.
    sorted: Vec<(&'a str, usize)>,
}

impl<'a> Ids<'a> {
    /// The index of a list of `n` items whose ids `id(i)` gives (a trait object, so the wasm
    /// holds one copy of this for every list).
    pub(crate) fn new(n: usize, id: &dyn Fn(usize) -> &'a str) -> Ids<'a> {
        let order = sorted_indices(n, &|a, b| id(a) < id(b));
        Ids {
            sorted: order.into_iter().map(|at| (id(at), at)).collect(),
        }
    }

    /// The first position of `id` in the list.
    pub(crate) fn get(&self, id: &str) -> Option<usize> {
        let at = self.sorted.partition_point(|(k, _)| counted(*k < id));
        match self.sorted.get(at) {
            Some((k, position)) if *k == id => Some(*position),
            _ => None,
        }
    }

    /// The first position whose id also comes earlier in the list.
    pub(crate) fn first_repeat(&self) -> Option<usize> {
        let mut first: Option<usize> = None;
        for pair in self.sorted.windows(2) {
            if pair[0].0 == pair[1].0 && first.is_none_or(|f| pair[1].1 < f) {
                first = Some(pair[1].1);
            }
        }
        first
    }
}

#[cfg(test)]
thread_local! {
    /// Comparisons and moved entries so far on this thread (tests only).
    static STEPS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// Counts `n` steps of work (a comparison, an entry moved) in test builds, where the tests that
/// hold config reading linear read them with [`steps`]; nothing in other builds.
#[inline(always)]
pub(crate) fn step(n: usize) {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + n as u64));
    #[cfg(not(test))]
    let _ = n;
}

/// A comparison's result, counted as one step.
#[inline(always)]
fn counted(result: bool) -> bool {
    step(1);
    result
}

/// The steps counted on this thread so far (tests only).
#[cfg(test)]
pub(crate) fn steps() -> u64 {
    STEPS.with(core::cell::Cell::get)
}

impl<K, V> IntoIterator for Map<K, V> {
    type Item = (K, V);
    type IntoIter = alloc::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        core::iter::Map<core::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> core::ops::Index<&Q> for Map<K, V> {
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
        struct Visitor<K, V>(core::marker::PhantomData<(K, V)>);
        impl<'de, K, V> serde::de::Visitor<'de> for Visitor<K, V>
        where
            K: Ord + serde::Deserialize<'de>,
            V: serde::Deserialize<'de>,
        {
            type Value = Map<K, V>;

            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
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
        deserializer.deserialize_map(Visitor(core::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_and_finds_ids_and_repeats() {
        let keys = [5, 3, 9, 3, 1, 5, 0, 9, 3];
        let order = sorted_indices(keys.len(), &|a, b| keys[a] < keys[b]);
        assert_eq!(order, [6, 4, 1, 3, 8, 0, 5, 2, 7]);
        assert!(sorted_indices(0, &|_, _| true).is_empty());
        let list = ["b", "a", "c", "a", "b"];
        let ids = Ids::new(list.len(), &|i| list[i]);
        assert_eq!(
            (ids.get("a"), ids.get("b"), ids.get("z")),
            (Some(1), Some(0), None)
        );
        assert_eq!(ids.first_repeat(), Some(3));
        assert_eq!(Ids::new(2, &|i| ["x", "y"][i]).first_repeat(), None);
    }

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
