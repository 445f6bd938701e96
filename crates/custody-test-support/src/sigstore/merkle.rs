//! The RFC 6962 Merkle tree of the local Rekor: leaf and node hashes, the tree head, and
//! audit paths (section 2.1), computed over the whole log each time — the logs of a
//! test hold a handful of entries.

use sha2::{Digest, Sha256};

pub(crate) type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub(crate) fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two smaller than `n` (`n > 1`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// `MTH(D[n])` over leaf hashes.
pub(crate) fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// `PATH(m, D[n])`: the audit path of leaf `index`, leaf-side first.
pub(crate) fn inclusion_path(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    assert!(index < n, "leaf {index} is in a tree of {n}");
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    let (mut path, sibling) = if index < k {
        (inclusion_path(index, &leaves[..k]), root(&leaves[k..]))
    } else {
        (inclusion_path(index - k, &leaves[k..]), root(&leaves[..k]))
    };
    path.push(sibling);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 2.1.3.2: rebuilds the root from a leaf and its audit path.
    fn root_from_path(index: usize, size: usize, leaf: Hash, path: &[Hash]) -> Hash {
        let (mut fn_, mut sn, mut r) = (index, size - 1, leaf);
        for p in path {
            if fn_ & 1 == 1 || fn_ == sn {
                r = node_hash(p, &r);
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        assert_eq!(sn, 0);
        r
    }

    #[test]
    fn every_audit_path_leads_to_the_root_for_trees_up_to_33_leaves() {
        for size in 1usize..=33 {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let head = root(&leaves);
            for index in 0..size {
                let path = inclusion_path(index, &leaves);
                assert_eq!(root_from_path(index, size, leaves[index], &path), head);
            }
        }
    }

    #[test]
    fn matches_the_rfc_6962_test_vector_of_the_certificate_transparency_project() {
        // certificate-transparency-go's merkle test data: the root over the leaves
        // "" and "\x00".
        let leaves = [leaf_hash(b""), leaf_hash(b"\x00")];
        assert_eq!(
            hex::encode(root(&leaves[..1])),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex::encode(root(&leaves)),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }
}
