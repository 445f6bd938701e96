//! Progress reporting from library code without drawing anything: libraries call the
//! trait, binaries draw it (indicatif bars on a terminal, one line per item in CI logs).

/// Receives progress events from long-running library work. Implementations must be
/// cheap: hashing loops call `advance` for every chunk.
pub trait Progress: Send + Sync {
    /// A new item starts (a file to hash, a file to upload); `total` bytes, if known.
    fn start(&self, _item: &str, _total: Option<u64>) {}
    /// `bytes` more of the current item are done.
    fn advance(&self, _item: &str, _bytes: u64) {}
    /// The item is done; `outcome` is one word (`ok`, `uploaded`, `skipped`, `failed`).
    fn finish(&self, _item: &str, _outcome: &str) {}
}

/// Progress that goes nowhere (tests, `--quiet`, `--json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
