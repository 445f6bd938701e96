//! Trove classifiers: Warehouse refuses a classifier missing from the
//! `trove-classifiers` package and one it lists as deprecated. The lists are vendored
//! from the package pinned in tests/requirements.txt by
//! `scripts/vendor-trove-classifiers.py`; a test fails when they drift apart.

use custody_dist::Problem;
use custody_dist::metadata::CoreMetadata;

use super::refusal;

/// `trove_classifiers.all_classifiers`, one a line (after a `#` header naming the version).
pub(crate) const CLASSIFIERS: &str = include_str!("classifiers.txt");
/// `trove_classifiers.deprecated_classifiers`: the classifier, then its replacements,
/// tab-separated.
pub(crate) const DEPRECATED: &str = include_str!("deprecated-classifiers.txt");

fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
}

fn is_known(classifier: &str) -> bool {
    lines(CLASSIFIERS).any(|known| known == classifier)
}

/// The replacements of a deprecated classifier (maybe none), or `None` when it is not
/// deprecated.
fn replacements(classifier: &str) -> Option<Vec<&'static str>> {
    lines(DEPRECATED).find_map(|line| {
        let mut parts = line.split('\t');
        (parts.next() == Some(classifier)).then(|| parts.collect())
    })
}

pub(super) fn check(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let mut classifiers = metadata.values("Classifier");
    classifiers.sort_unstable();
    classifiers.dedup();
    for classifier in classifiers {
        if !is_known(classifier) {
            problems.push(
                refusal("pypi-classifier", "Classifier", format!("`{classifier}` is not a trove classifier"))
                    .hint("pick one from https://pypi.org/classifiers/ (a private project can use `Private :: Do Not Upload` to be refused on purpose)"),
            );
        }
        if let Some(replacements) = replacements(classifier) {
            let hint = if replacements.is_empty() {
                "remove it from `classifiers` in pyproject.toml".to_owned()
            } else {
                format!("use `{}` instead", replacements.join("` or `"))
            };
            problems.push(
                refusal(
                    "pypi-classifier-deprecated",
                    "Classifier",
                    format!("`{classifier}` is deprecated"),
                )
                .hint(hint),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_lists_parse() {
        assert!(is_known("Programming Language :: Python :: 3"));
        assert!(!is_known("Programming Language :: Python :: 3 "));
        let deprecated = lines(DEPRECATED)
            .next()
            .unwrap()
            .split('\t')
            .next()
            .unwrap();
        assert!(replacements(deprecated).is_some());
        assert_eq!(replacements("Programming Language :: Python :: 3"), None);
    }
}
