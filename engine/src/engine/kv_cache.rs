//! Per-layer key/value cache, f32 (no lossy cache compression: the cached
//! values are exactly the rows the forward pass computed).

#[derive(Clone)]
pub struct KvCache {
    pub kv_dim: usize,
    /// Positions the cache can hold.
    pub capacity: usize,
    /// Positions filled so far (the next position to compute).
    pub len: usize,
    /// `[layer][capacity][kv_dim]`
    pub k: Vec<Vec<f32>>,
    /// `[layer][capacity][kv_dim]`
    pub v: Vec<Vec<f32>>,
}

impl std::fmt::Debug for KvCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KvCache[{} layers, {}/{} positions x {}]", self.k.len(), self.len, self.capacity, self.kv_dim)
    }
}

impl KvCache {
    pub fn new(n_layers: usize, kv_dim: usize, capacity: usize) -> Self {
        Self {
            kv_dim,
            capacity,
            len: 0,
            k: vec![vec![0.0; capacity * kv_dim]; n_layers],
            v: vec![vec![0.0; capacity * kv_dim]; n_layers],
        }
    }
}
