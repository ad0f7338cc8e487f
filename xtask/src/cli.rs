//! Flags of the form `--name VALUE` or `--name=VALUE`, for the commands that take only such.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files `spec-sync` and `upstream-patch` work on: `--upstream FILE` (required),
/// `--ours PATH` (default `spec/datadog-cnm.yaml`), `--fixes PATH` (default
/// `spec/FIXES.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFiles {
    /// `--upstream FILE`: the full upstream definition.
    pub upstream: PathBuf,
    /// `--ours PATH`: our fragment.
    pub ours: Option<PathBuf>,
    /// `--fixes PATH`: the explanations of our differences.
    pub fixes: Option<PathBuf>,
}

impl SpecFiles {
    /// Parse the arguments after the command's name; the error is one line for the user.
    pub fn parse(args: &[&str]) -> Result<SpecFiles, String> {
        let flags = flags(args, &["--upstream", "--ours", "--fixes"])?;
        let path = |flag: &str| flags.get(flag).map(PathBuf::from);
        Ok(SpecFiles {
            upstream: path("--upstream").ok_or("--upstream FILE is required")?,
            ours: path("--ours"),
            fixes: path("--fixes"),
        })
    }
}

/// The values of `args`, by flag; every flag must be one of `allowed` and appear once. The
/// error is one line for the user.
pub fn flags<'a>(args: &[&'a str], allowed: &[&str]) -> Result<BTreeMap<String, &'a str>, String> {
    let mut values = BTreeMap::new();
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        if !allowed.contains(&flag) {
            return Err(format!("unexpected argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .copied()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        if values.insert(flag.to_owned(), value).is_some() {
            return Err(format!("{flag} given twice"));
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_with_values() {
        let parsed = flags(&["--a", "1", "--b=2"], &["--a", "--b"]).unwrap();
        assert_eq!(parsed.get("--a"), Some(&"1"));
        assert_eq!(parsed.get("--b"), Some(&"2"));
        assert_eq!(
            flags(&["--c", "1"], &["--a"]).unwrap_err(),
            "unexpected argument \"--c\""
        );
        assert_eq!(flags(&["--a"], &["--a"]).unwrap_err(), "--a needs a value");
        assert_eq!(
            flags(&["--a", "1", "--a", "2"], &["--a"]).unwrap_err(),
            "--a given twice"
        );
    }
}
