//! `verify`: check a directory against a manifest, anywhere and offline.

use custody_cli::{Failure, StepResult};
use custody_manifest::verify_dir;
use custody_output::{Context, Diagnostic, ExitStatus, Level};

use crate::VerifyArgs;
use custody_cli::manifests::load_manifest;

pub(crate) fn verify(args: &VerifyArgs, context: &mut Context) -> StepResult {
    let (manifest_path, manifest) = load_manifest(context, &args.manifest)?;
    let dir = match &args.dir {
        Some(dir) => context.resolve(dir),
        None => manifest_path
            .parent()
            .map_or_else(|| context.cwd.clone(), ToOwned::to_owned),
    };
    if !dir.is_dir() {
        return Err(Failure::input(format!(
            "`{}` is not a directory\nhint: pass the directory holding the artifacts",
            context.display(&dir)
        )));
    }
    let report = verify_dir(
        &manifest,
        &dir,
        std::slice::from_ref(&manifest_path),
        !args.shallow,
        &args.limits.limits(),
        context.progress.as_ref(),
    )
    .map_err(Failure::input)?;

    let mut failed = 0;
    for entry in &report.entries {
        if entry.check.is_ok() {
            continue;
        }
        failed += 1;
        let location = entry
            .path
            .as_ref()
            .map_or_else(|| entry.file_name.clone(), |p| context.display(p));
        let diagnostic =
            Diagnostic::new(format!("`{}` {}", entry.file_name, entry.check.describe()))
                .at(location, None);
        context
            .out
            .error(&diagnostic)
            .map_err(Failure::environment)?;
    }
    let level = if args.strict {
        Level::Error
    } else {
        Level::Warning
    };
    for path in &report.unlisted {
        let diagnostic = Diagnostic::new(format!(
            "`{}` is not listed in the manifest",
            context.display(path)
        ));
        context
            .out
            .diagnostic(level, &diagnostic)
            .map_err(Failure::environment)?;
    }
    let unlisted_fail = args.strict && !report.unlisted.is_empty();
    let ok = failed == 0 && !unlisted_fail;
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": ok,
            "manifest": context.display(&manifest_path),
            "digest": manifest.digest,
            "dir": context.display(&dir),
            "entries": report.entries,
            "unlisted": report.unlisted.iter().map(|p| context.display(p)).collect::<Vec<_>>(),
        });
        context.out.json(&value).map_err(Failure::environment)?;
    }
    let total = report.entries.len();
    if ok {
        let depth = if args.shallow {
            "sizes and digests"
        } else {
            "sizes, digests and contents"
        };
        context
            .out
            .status(
                "Verified",
                &format!(
                    "{total} file(s) against `{}` ({depth} match)",
                    context.display(&manifest_path)
                ),
            )
            .map_err(Failure::environment)?;
        context
            .out
            .set_output("verified", "true")
            .map_err(Failure::environment)?;
        Ok(ExitStatus::Success)
    } else {
        let mut message = format!(
            "{failed} of {total} file(s) do not match `{}`",
            context.display(&manifest_path)
        );
        if unlisted_fail {
            message.push_str(&format!(
                ", and {} unlisted file(s) are present (--strict)",
                report.unlisted.len()
            ));
        }
        context
            .out
            .error(&Diagnostic::new(message))
            .map_err(Failure::environment)?;
        context
            .out
            .set_output("verified", "false")
            .map_err(Failure::environment)?;
        Ok(ExitStatus::No)
    }
}
