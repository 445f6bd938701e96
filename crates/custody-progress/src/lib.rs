//! Progress reporting from library code without drawing anything. Domain crates
//! (hashing in custody-dist, verification in custody-manifest, uploads) call the trait;
//! only the binaries' shell (custody-cli) draws it, as indicatif bars on a terminal or
//! one line per item in CI logs. It sits on the lowest floor so that no domain crate has
//! to know about terminals to report progress.

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
