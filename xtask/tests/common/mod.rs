//! Helpers shared by the command tests: run the xtask binary, scratch directories, and a
//! unified-diff applier of our own.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run the xtask binary in `dir` (the crate directory when `None`).
pub fn xtask_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let dir = dir.map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), Path::to_owned);
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run xtask: {e}"))
}

/// Run the xtask binary from the crate directory, so fixture paths are stable.
pub fn xtask(args: &[&str]) -> Output {
    xtask_in(None, args)
}

/// Stdout of a run that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "xtask failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Stderr of a run.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fixture's text (`tests/fixtures/…`).
pub fn fixture(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scratch directory of this test process, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh directory named after the test.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    /// Write `contents` to `name` (directories created) and return its path.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// The text of `name`.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Apply a unified diff of one file to `original`, checking every context and removed line
/// (as `git apply` does, without fuzz).
pub fn apply_unified(original: &str, patch: &str) -> String {
    let old: Vec<&str> = original.split_inclusive('\n').collect();
    let mut out: Vec<String> = Vec::new();
    let mut next = 0; // next line of `old` to copy
    let mut lines = patch.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let Some(header) = line.strip_prefix("@@ -") else {
            assert!(
                line.starts_with("--- ") || line.starts_with("+++ "),
                "unexpected patch line {line:?}"
            );
            continue;
        };
        let start: usize = header
            .split([',', ' '])
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap();
        let start = start.saturating_sub(1);
        assert!(start >= next, "hunks out of order at {line:?}");
        out.extend(old[next..start].iter().map(|l| (*l).to_owned()));
        next = start;
        while let Some(body) = lines.peek() {
            if body.starts_with("@@") {
                break;
            }
            let body = lines.next().unwrap();
            if body.starts_with('\\') {
                continue; // "\ No newline at end of file"
            }
            let (tag, text) = body.split_at(1);
            match tag {
                " " | "-" => {
                    assert_eq!(
                        old.get(next).copied(),
                        Some(text),
                        "the patch does not match line {}",
                        next + 1
                    );
                    if tag == " " {
                        out.push(text.to_owned());
                    }
                    next += 1;
                }
                "+" => out.push(text.to_owned()),
                _ => panic!("unexpected hunk line {body:?}"),
            }
        }
    }
    out.extend(old[next..].iter().map(|l| (*l).to_owned()));
    out.concat()
}
