//! Where a provider's committed trace first differs from the one
//! re-execution computed: the located divergence an oracle adds to the
//! evidence it serves after a failed verdict (not part of the on-chain
//! evidence hash, which re-execution alone decides).

use serde_json::{Value, json};
use spotcheck_engine::commit::{hex, verify_proof};
use spotcheck_engine::{Hash, Trace};

use crate::fetch::{Fetcher, ProvenLeaf};

/// Where the provider's committed trace first differs from `ours`, by
/// bisection over the leaf index with the provider's proven leaves (each
/// proof checked against the job's trace root, so the leaf is what it
/// committed): the first leaf that differs and the last that agrees, each
/// with its inclusion proof. Bisection assumes that once the hidden state
/// diverges it stays diverged, as it does when the computation is wrong;
/// the two leaves it names are proved either way. A trace of another shape
/// (another model's layers) is reported with its first leaf. What cannot be
/// had says why.
pub async fn locate(fetcher: &Fetcher, endpoint: &str, output_hash: &Hash, trace_root: &Hash, ours: &Trace) -> Value {
    let (layers, leaves) = (ours.layers, ours.leaves.len());
    if leaves == 0 || layers == 0 {
        return json!({ "unavailable": "re-execution produced no trace" });
    }
    // The provider's leaf i (at our (position, layer) of i), its proof checked.
    let probe = |i: usize| {
        async move {
            let (position, layer) = ((i as u32) / layers, (i as u32) % layers);
            let theirs = fetcher
                .proof(endpoint, output_hash, position, layer)
                .await
                .map_err(|err| format!("the provider serves no proof of leaf ({position}, {layer}): {err}"))?;
            // The root commits to the trace's shape: ours, or (another
            // model's) the layer count under which the proof verifies.
            if shape_of(&theirs, trace_root, layers).is_none() {
                return Err(format!(
                    "the provider's proof of leaf ({position}, {layer}) does not verify against the committed trace root"
                ));
            }
            Ok::<_, String>(theirs)
        }
    };
    let proven = |i: usize, theirs: &ProvenLeaf| {
        json!({
            "position": i as u32 / layers,
            "layer": i as u32 % layers,
            "leaf": hex(&theirs.leaf),
            "ours": hex(&ours.leaves[i]),
            "index": theirs.proof.index,
            "leaf_count": theirs.proof.leaf_count,
            "siblings": theirs.proof.siblings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
        })
    };
    let result: Result<Value, String> = async {
        let first = probe(0).await?;
        if first.proof.leaf_count != leaves {
            let (positions, theirs_layers) = shape_of(&first, trace_root, layers).unwrap_or_default();
            return Ok(json!({
                "shape": format!(
                    "the provider committed {} trace leaves ({positions} positions × {theirs_layers} layers); re-execution has {leaves} ({layers} layers)",
                    first.proof.leaf_count
                ),
                "first_divergent": (first.leaf != ours.leaves[0]).then(|| proven(0, &first)),
                "last_agreeing": null,
            }));
        }
        if first.leaf != ours.leaves[0] {
            return Ok(json!({ "first_divergent": proven(0, &first), "last_agreeing": null }));
        }
        let last = probe(leaves - 1).await?;
        if last.leaf == ours.leaves[leaves - 1] {
            return Ok(json!({
                "matches": "the provider's trace agrees with ours at its first and last leaves: the tokens, not the trace, are at fault"
            }));
        }
        // Invariant: leaf `agree` agrees (proof `agreeing`), leaf `differ` differs (proof `differing`).
        let (mut agree, mut agreeing, mut differ, mut differing) = (0usize, first, leaves - 1, last);
        while differ - agree > 1 {
            let mid = agree + (differ - agree) / 2;
            let theirs = probe(mid).await?;
            if theirs.leaf == ours.leaves[mid] {
                (agree, agreeing) = (mid, theirs);
            } else {
                (differ, differing) = (mid, theirs);
            }
        }
        Ok(json!({ "first_divergent": proven(differ, &differing), "last_agreeing": proven(agree, &agreeing) }))
    }
    .await;
    result.unwrap_or_else(|why| json!({ "unavailable": why }))
}

/// The (positions, layers) under which `theirs` proves into `root`: ours
/// (`layers`) first, else another layer count that divides its leaf count
/// (a trace root commits to its shape, so only the true one verifies).
fn shape_of(theirs: &ProvenLeaf, root: &Hash, layers: u32) -> Option<(u32, u32)> {
    let count = u32::try_from(theirs.proof.leaf_count).ok()?;
    let candidates = std::iter::once(layers).chain((1..=count.min(1024)).filter(|l| *l != layers));
    candidates
        .filter(|l| *l > 0 && count % l == 0)
        .map(|l| (count / l, l))
        .find(|(positions, l)| verify_proof(&theirs.leaf, &theirs.proof, *positions, *l, root))
}
