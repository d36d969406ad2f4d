//! `Interner`: maps repeated strings (digests, step identities) to dense `u32` ids while loading,
//! so polars groups and joins on integers instead of text.

use polars::prelude::PlHashMap;

/// Strings seen so far, by id.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    // foldhash (polars' hasher): digests are hashed once per loaded row.
    ids: PlHashMap<Box<[u8]>, u32>,
    names: Vec<String>,
}

impl Interner {
    /// The id of `bytes`, adding it when new. Lookups of known keys do not allocate.
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(bytes) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(String::from_utf8_lossy(bytes).into_owned());
        self.ids.insert(bytes.into(), id);
        id
    }

    /// The id of `bytes` if it was seen.
    pub fn get(&self, bytes: &[u8]) -> Option<u32> {
        self.ids.get(bytes).copied()
    }

    /// The string with this id.
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_id() {
        let mut i = Interner::default();
        let a = i.intern(b"RUN make");
        let b = i.intern(b"COPY . /src");
        assert_eq!(i.intern(b"RUN make"), a);
        assert_ne!(a, b);
        assert_eq!(i.name(b), "COPY . /src");
        assert_eq!(i.get(b"nope"), None);
        assert_eq!(i.len(), 2);
    }
}
