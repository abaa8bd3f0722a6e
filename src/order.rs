//! Sorting and grouping, in one place: every sort of the core is one instance of the standard
//! library's `sort_unstable_by`, over positions, with the caller's comparison behind a `dyn`
//! reference. A `sort_by_key` per call site would put a copy of the sort (2–3 KB) in the `.wasm`
//! for each element type and closure, and a map of groups a search tree; an indirect call per
//! comparison costs far less than that here.

use std::cmp::Ordering;

/// The positions `0..len` in the order `compare` gives them; equal ones keep their order (ties
/// go by position, so the result is what a stable sort gives).
pub fn sorted_positions(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| compare(a, b).then(a.cmp(&b)));
    order
}

/// Sorts `items` by `key`, stably.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let order = sorted_positions(items.len(), &|a, b| key(&items[a]).cmp(&key(&items[b])));
    if order.iter().enumerate().all(|(i, &position)| i == position) {
        return; // already in order, as rows read back usually are
    }
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|position| slots[position].take()),
    );
}

/// The positions of `keys` grouped by equal key: the groups in key order, each group's positions
/// ascending.
pub fn groups<K: Ord>(keys: &[K]) -> Vec<Vec<usize>> {
    let order = sorted_positions(keys.len(), &|a, b| keys[a].cmp(&keys[b]));
    order
        .chunk_by(|&a, &b| keys[a] == keys[b])
        .map(<[usize]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let mut items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        sort_by_key(&mut items, |(k, _)| *k);
        assert_eq!(items, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        let words = ["b", "a", "b", "a"];
        assert_eq!(
            sorted_positions(words.len(), &|x, y| words[x].cmp(words[y])),
            [1, 3, 0, 2]
        );
        assert!(sorted_positions(0, &|_, _| Ordering::Equal).is_empty());
        assert_eq!(
            groups(&["b", "a", "b", "c", "a"]),
            [vec![1, 4], vec![0, 2], vec![3]]
        );
    }
}
