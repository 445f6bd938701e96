//! Integration tests of artifact verification: real artifacts from PyPI and from
//! `python -m build` verify clean; every rule is broken once by a hand-made archive.

mod corpus;
mod differential_sdist;
mod differential_wheel;
mod executable;
mod pypi;
mod sdist;
mod wheel;

use std::path::Path;

use custody_dist::{Inspection, Limits, inspect};
use custody_progress::NoProgress;

pub(crate) fn check(path: &Path) -> Inspection {
    inspect(path, &Limits::default(), &NoProgress).expect("artifact is readable")
}

pub(crate) fn check_with(path: &Path, limits: &Limits) -> Inspection {
    inspect(path, limits, &NoProgress).expect("artifact is readable")
}

pub(crate) fn error_codes(inspection: &Inspection) -> Vec<String> {
    inspection.errors().map(|p| p.code.clone()).collect()
}

/// Asserts that verification fails with `code`, and returns that problem's message.
pub(crate) fn assert_error(inspection: &Inspection, code: &str) -> String {
    let problem = inspection
        .errors()
        .find(|p| p.code == code)
        .unwrap_or_else(|| panic!("expected error `{code}`, got {:#?}", inspection.problems));
    assert!(!inspection.is_ok());
    problem.message.clone()
}

/// Asserts that verification warns with `code`, and returns that warning's message.
pub(crate) fn assert_warning(inspection: &Inspection, code: &str) -> String {
    inspection
        .problems
        .iter()
        .find(|p| !p.is_error() && p.code == code)
        .unwrap_or_else(|| panic!("expected warning `{code}`, got {:#?}", inspection.problems))
        .message
        .clone()
}

pub(crate) fn assert_clean(inspection: &Inspection) {
    assert!(
        inspection.is_ok(),
        "`{}` should verify clean, got {:#?}",
        inspection.file_name,
        inspection.problems
    );
}
