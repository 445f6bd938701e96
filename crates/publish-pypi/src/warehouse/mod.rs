//! What PyPI's upload endpoint refuses, rule for rule: `packaging`'s validating
//! metadata parser (`Metadata.from_email`, which Warehouse calls) and Warehouse's own
//! rules on top (`warehouse/forklift/metadata.py` `_validate_metadata`, and the file
//! name and platform rules of `forklift/legacy.py`). Every refusal names the field and
//! carries a stable code; `tests/it/warehouse.rs` compares the verdicts with the real
//! `packaging`, `email-validator` and `trove-classifiers` over real files.

mod classifiers;
mod email;
mod fields;
mod license;
mod requirements;
mod wheel_name;

use custody_dist::Problem;
use custody_dist::metadata::CoreMetadata;

pub(crate) use wheel_name::check as check_wheel_name;

/// Every metadata rule, in the order Warehouse reports them.
pub(crate) fn check_metadata(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    fields::check(metadata, problems);
    requirements::check(metadata, problems);
    email::check(metadata, problems);
    license::check(metadata, problems);
    classifiers::check(metadata, problems);
}

/// A refusal of field `field` under rule `code`: the message names both.
fn refusal(code: &str, field: &str, message: impl std::fmt::Display) -> Problem {
    Problem::error(code, format!("field `{field}`: {message}"))
}
