//! Hash maps for the engine's per-user bookkeeping (ids, keys, names): foldhash, seeded per
//! process, instead of SipHash, which profiling showed at a tenth of reconcile's CPU time at
//! 100,000 users. Keys come from the identity provider, so the hasher stays seeded.

pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
