//! A map shared across requests and bounded in memory: when it is full the whole map is dropped.
//!
//! For what a process may remember to save work, never what it must remember to be right: a lost
//! entry costs the work again (a signature, a read), so dropping everything at once is a fair
//! price for no eviction bookkeeping on the hot path. A poisoned lock reads as empty and writes
//! nothing, for the same reason.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct BoundedMap<K, V> {
    capacity: usize,
    entries: Mutex<HashMap<K, V>>,
}

impl<K: Eq + Hash, V> BoundedMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `f` of the entry for `key`, if there is one.
    pub fn read<Q, T>(&self, key: &Q, f: impl FnOnce(&V) -> Option<T>) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.lock().ok()?.get(key).and_then(f)
    }

    pub fn insert(&self, key: K, value: V) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash, V: Clone> BoundedMap<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.read(key, |v| Some(v.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_starts_again_with_the_new_entry() {
        let map = BoundedMap::new(3);
        for i in 0..3 {
            map.insert(i, i * 10);
        }
        map.insert(1, 11);
        assert_eq!(map.len(), 3, "replacing an entry does not count as growing");
        map.insert(7, 70);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&7), Some(70));
        assert_eq!(map.get(&1), None);
        map.remove(&7);
        assert!(map.is_empty());
    }
}
