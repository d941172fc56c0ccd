//! Binary Merkle tree over trace leaves: padded with the empty leaf to a
//! power of two (one leaf stays one leaf; zero leaves give the empty leaf),
//! nodes are SHA-256(NODE_TAG || left || right).

use sha2::{Digest, Sha256};

use super::{EMPTY_TAG, Hash, NODE_TAG, ROOT_TAG};

fn empty_leaf() -> Hash {
    Sha256::digest(EMPTY_TAG).into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(NODE_TAG);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// All levels, leaves (padded) first, root last.
fn levels(leaves: &[Hash]) -> Vec<Vec<Hash>> {
    let width = leaves.len().max(1).next_power_of_two();
    let mut level = leaves.to_vec();
    level.resize(width, empty_leaf());
    let mut out = vec![level];
    while let Some(last) = out.last()
        && last.len() > 1
    {
        let next = last.chunks_exact(2).map(|p| node(&p[0], &p[1])).collect();
        out.push(next);
    }
    out
}

pub fn merkle_root(leaves: &[Hash]) -> Hash {
    levels(leaves).last().and_then(|l| l.first().copied()).unwrap_or_else(empty_leaf)
}

/// Siblings from the leaf up; with the leaf index and count they rebuild
/// the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: usize,
    pub leaf_count: usize,
    pub siblings: Vec<Hash>,
}

pub fn prove(leaves: &[Hash], index: usize) -> Option<InclusionProof> {
    if index >= leaves.len() {
        return None;
    }
    let lv = levels(leaves);
    let mut siblings = Vec::with_capacity(lv.len().saturating_sub(1));
    let mut i = index;
    for level in &lv[..lv.len() - 1] {
        siblings.push(level[i ^ 1]);
        i /= 2;
    }
    Some(InclusionProof { index, leaf_count: leaves.len(), siblings })
}

/// Checks `leaf` at `proof.index` against a trace root of the given shape.
pub fn verify_proof(leaf: &Hash, proof: &InclusionProof, positions: u32, layers: u32, root: &Hash) -> bool {
    let expected_depth = proof.leaf_count.max(1).next_power_of_two().trailing_zeros() as usize;
    if proof.index >= proof.leaf_count
        || proof.leaf_count != positions as usize * layers as usize
        || proof.siblings.len() != expected_depth
    {
        return false;
    }
    let mut acc = *leaf;
    let mut i = proof.index;
    for s in &proof.siblings {
        acc = if i.is_multiple_of(2) { node(&acc, s) } else { node(s, &acc) };
        i /= 2;
    }
    let mut h = Sha256::new();
    h.update(ROOT_TAG);
    h.update(positions.to_le_bytes());
    h.update(layers.to_le_bytes());
    h.update(acc);
    let got: Hash = h.finalize().into();
    got == *root
}

#[cfg(test)]
mod tests {
    use super::super::trace_root;
    use super::*;

    #[test]
    fn proofs_round_trip_and_reject_tampering() {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let leaves: Vec<Hash> = (0..n).map(|i| Sha256::digest([i as u8]).into()).collect();
            let (positions, layers) = (n as u32, 1);
            let root = trace_root(positions, layers, &leaves);
            for i in 0..n {
                let p = prove(&leaves, i).unwrap();
                assert!(verify_proof(&leaves[i], &p, positions, layers, &root), "n={n} i={i}");
                let other = leaves[(i + 1) % n];
                assert!(n == 1 || !verify_proof(&other, &p, positions, layers, &root));
                let mut bad = p.clone();
                bad.index ^= 1;
                assert!(bad.index >= n || !verify_proof(&leaves[i], &bad, positions, layers, &root) || n == 1);
            }
            assert!(prove(&leaves, n).is_none());
        }
        assert_ne!(merkle_root(&[]), merkle_root(&[empty_leaf(), empty_leaf()]));
    }
}
