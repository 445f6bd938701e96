//! No code: this crate holds the end-to-end tests of the pipelines that compose the
//! steps (`tests/it`), which run the scripts and `action.yml` as users run them.
