//! A wheel's file name as `forklift/legacy.py` checks it: the project part, lowercased
//! with `.` and `-` as `_` ("Eventually this should be unnecessary once we become more
//! restrictive"), must be the normalized name with `_` (`Foo.Bar-1.0-…` is accepted for
//! `foo-bar`, as PyPI accepted `MarkupSafe-2.1.5-…`; `other-1.0-…` is refused), and
//! every platform tag must be on Warehouse's allow-list (`_valid_platform_tag`):
//! `linux_x86_64` is refused because a binary built for one distribution runs nowhere
//! else.

use custody_dist::Problem;
use custody_dist::WheelFilename;
use custody_dist::name::file_name_form;

use super::refusal;

/// `_allowed_platforms`: the tags matched literally.
const ALLOWED_PLATFORMS: [&str; 18] = [
    "any",
    "win32",
    "win_arm64",
    "win_amd64",
    "win_ia64",
    "manylinux1_x86_64",
    "manylinux1_i686",
    "manylinux2010_x86_64",
    "manylinux2010_i686",
    "manylinux2014_x86_64",
    "manylinux2014_i686",
    "manylinux2014_aarch64",
    "manylinux2014_armv7l",
    "manylinux2014_ppc64",
    "manylinux2014_ppc64le",
    "manylinux2014_s390x",
    "linux_armv6l",
    "linux_armv7l",
];
const MACOSX_ARCHES: [&str; 11] = [
    "ppc",
    "ppc64",
    "i386",
    "x86_64",
    "arm64",
    "intel",
    "fat",
    "fat3",
    "fat64",
    "universal",
    "universal2",
];
/// macOS 11 and later are tagged `macosx_{major}_0`; 10.x keeps its minor version.
const MACOSX_MAJORS: [&str; 6] = ["11", "12", "13", "14", "15", "26"];
/// PEP 600 manylinux and PEP 656 musllinux architectures (`ppc64` for manylinux only).
const LINUX_ARCHES: [&str; 7] = [
    "x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64",
];
const IOS_ARCHES: [&str; 2] = ["arm64", "x86_64"];
const ANDROID_ARCHES: [&str; 4] = ["armeabi_v7a", "arm64_v8a", "x86", "x86_64"];

pub(crate) fn check(file_name: &str, metadata_name: &str, problems: &mut Vec<Problem>) {
    let Ok(parsed) = WheelFilename::parse(file_name) else {
        // Verification has reported the unparseable name.
        return;
    };
    let expected = file_name_form(metadata_name);
    if parsed.name.to_ascii_lowercase().replace(['.', '-'], "_") != expected {
        problems.push(
            refusal("pypi-wheel-name", "file name", format!("starts with `{}`, which is not the project `{metadata_name}`; PyPI wants `{expected}`", parsed.name))
                .hint(format!("rebuild with a current build backend, or rename the file to start with `{expected}-`")),
        );
    }
    for platform in &parsed.platform {
        if !is_allowed_platform(platform) {
            problems.push(
                refusal("pypi-platform-tag", "file name", format!("has the platform tag `{platform}`, which PyPI does not accept"))
                    .hint("build portable wheels (manylinux/musllinux with cibuildwheel or auditwheel repair, macosx, win), or publish only the sdist"),
            );
        }
    }
}

/// `warehouse/forklift/legacy.py` `_valid_platform_tag`.
fn is_allowed_platform(tag: &str) -> bool {
    if ALLOWED_PLATFORMS.contains(&tag) {
        return true;
    }
    if let Some(rest) = tag.strip_prefix("macosx_")
        && let Some((major, minor, arch)) = numbers_then(rest)
    {
        return MACOSX_ARCHES.contains(&arch)
            && (major == "10" || (MACOSX_MAJORS.contains(&major) && minor == "0"));
    }
    for (prefix, manylinux) in [("manylinux_", true), ("musllinux_", false)] {
        if let Some(rest) = tag.strip_prefix(prefix)
            && let Some((_, _, arch)) = numbers_then(rest)
        {
            return LINUX_ARCHES.contains(&arch) || (manylinux && arch == "ppc64");
        }
    }
    if let Some(rest) = tag.strip_prefix("ios_")
        && let Some((_, _, rest)) = numbers_then(rest)
        && let Some(arch) = rest
            .strip_suffix("_iphoneos")
            .or_else(|| rest.strip_suffix("_iphonesimulator"))
    {
        return IOS_ARCHES.contains(&arch);
    }
    if let Some(rest) = tag.strip_prefix("android_")
        && let Some((level, arch)) = rest.split_once('_')
        && is_number(level)
    {
        return ANDROID_ARCHES.contains(&arch);
    }
    tag.strip_prefix("pyemscripten_")
        .and_then(|rest| rest.strip_suffix("_wasm32"))
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(major, minor)| is_number(major) && is_number(minor))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `{digits}_{digits}_{rest}`, as the regexes `(\d+)_(\d+)_(.*)` read it.
fn numbers_then(text: &str) -> Option<(&str, &str, &str)> {
    let mut parts = text.splitn(3, '_');
    let (major, minor, rest) = (parts.next()?, parts.next()?, parts.next()?);
    (is_number(major) && is_number(minor)).then_some((major, minor, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warehouse_platform_allow_list() {
        for good in [
            "any",
            "win_amd64",
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64",
            "musllinux_1_2_aarch64",
            "macosx_10_9_universal2",
            "macosx_11_0_arm64",
            "manylinux_2_28_ppc64",
            "ios_13_0_arm64_iphoneos",
            "android_21_arm64_v8a",
            "pyemscripten_2025_0_wasm32",
            "linux_armv7l",
        ] {
            assert!(is_allowed_platform(good), "{good}");
        }
        for bad in [
            "linux_x86_64",
            "linux_aarch64",
            "macosx_11_1_arm64",
            "musllinux_1_2_ppc64",
            "macosx_10_9_sparc",
            "cygwin_x86_64",
            "manylinux1_aarch64",
        ] {
            assert!(!is_allowed_platform(bad), "{bad}");
        }
    }
}
