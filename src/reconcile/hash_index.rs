//! Where a run's users are, by a text of theirs (directory users by key or folded username,
//! anchors by source id).

use std::hash::BuildHasher;

/// The texts' hashes with their positions, sorted, and a directory of where each run of hashes
/// with the same leading bits starts: a look-up reads one slot of the directory and a run of
/// about two entries, then compares a text or two. A map of every user cost several times the
/// memory (a hash map's table at 1,000,000 entries is sized for 2,097,152); sorted by the texts
/// themselves, each look-up touched a dozen scattered users; a binary search over the hashes
/// alone still missed the cache a dozen times a look-up at 100,000 users (3% of an Entra
/// `noop`'s CPU went to finding anchors).
pub(super) struct HashIndex {
    hasher: foldhash::fast::RandomState,
    entries: Vec<(u64, u32)>,
    /// `starts[p]` is the first entry whose hash's leading `bits` bits are `p` or more; one more
    /// slot at the end holds the number of entries. About one slot for two entries.
    starts: Vec<u32>,
    bits: u32,
}

impl HashIndex {
    pub(super) fn new<S: AsRef<str>>(texts: impl Iterator<Item = S>) -> Self {
        let hasher = foldhash::fast::RandomState::default();
        let mut entries: Vec<(u64, u32)> =
            texts.enumerate().map(|(at, t)| (hasher.hash_one(t.as_ref()), at as u32)).collect();
        entries.sort_unstable();
        // The smallest power of two at least half the entries, capped so a slot stays 32 bits.
        let bits = (entries.len() / 2).max(1).next_power_of_two().trailing_zeros().min(31);
        let mut index = HashIndex { hasher, entries, starts: Vec::new(), bits };
        let slots = 1usize << bits;
        index.starts.reserve_exact(slots + 1);
        let mut at = 0;
        for slot in 0..slots {
            while at < index.entries.len() && index.slot(index.entries[at].0) < slot {
                at += 1;
            }
            index.starts.push(at as u32);
        }
        index.starts.push(index.entries.len() as u32);
        index
    }

    /// The directory slot of a hash: its leading `bits` bits.
    fn slot(&self, hash: u64) -> usize {
        hash.checked_shr(64 - self.bits).unwrap_or(0) as usize
    }

    /// The positions whose text hashes as `text` does, in order; `is` tells which are it.
    fn candidates(&self, text: &str) -> impl Iterator<Item = usize> + '_ {
        let hash = self.hasher.hash_one(text);
        let slot = self.slot(hash);
        let run = &self.entries[self.starts[slot] as usize..self.starts[slot + 1] as usize];
        run.iter().skip_while(move |(h, _)| *h < hash).take_while(move |(h, _)| *h == hash).map(|(_, at)| *at as usize)
    }

    pub(super) fn find(&self, text: &str, is: impl Fn(usize) -> bool) -> Option<usize> {
        self.candidates(text).find(|at| is(*at))
    }

    pub(super) fn find_last(&self, text: &str, is: impl Fn(usize) -> bool) -> Option<usize> {
        self.candidates(text).filter(|at| is(*at)).last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text is found at its own position, texts not given are not, at every size from
    /// empty up (the directory's size changes with the number of entries), and repeated texts
    /// are found first and last in order.
    #[test]
    fn every_text_is_found_where_it_was_given() {
        for n in [0usize, 1, 2, 3, 5, 17, 1000, 4099] {
            let texts: Vec<String> = (0..n).map(|i| format!("user-{i}")).collect();
            let index = HashIndex::new(texts.iter());
            for (at, t) in texts.iter().enumerate() {
                assert_eq!(index.find(t, |p| texts[p] == *t), Some(at), "{t} of {n}");
            }
            assert_eq!(index.find("someone else", |p| texts[p] == "someone else"), None);
            assert_eq!(index.starts.len(), (1 << index.bits) + 1);
            assert!(index.starts.windows(2).all(|w| w[0] <= w[1]));
        }
        let texts = ["a", "b", "a", "c", "a"];
        let index = HashIndex::new(texts.iter());
        assert_eq!(index.find("a", |p| texts[p] == "a"), Some(0));
        assert_eq!(index.find_last("a", |p| texts[p] == "a"), Some(4));
        assert_eq!(index.candidates("a").collect::<Vec<_>>(), vec![0, 2, 4]);
    }
}
