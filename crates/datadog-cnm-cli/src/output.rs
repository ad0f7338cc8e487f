//! Where results go, and plain lists of records (`sites`) in every format. Query results
//! have their own writers in [`crate::view`].

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::cli::OutputFormat;
use crate::view::table::{new_grid, render};

/// Where results go.
pub struct Out<W: Write> {
    /// Results (stdout).
    pub results: W,
    /// `--output`.
    pub format: OutputFormat,
}

impl<W: Write> Out<W> {
    /// Print plain records (`sites`): `columns` names the fields of every record.
    pub fn records(&mut self, columns: &[&str], records: &[Vec<String>]) -> io::Result<()> {
        match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                let mut grid = new_grid();
                grid.set_header(columns.iter().copied());
                for record in records {
                    grid.add_row(record.iter().map(String::as_str));
                }
                self.results.write_all(render(&grid).as_bytes())?;
            }
            OutputFormat::Json | OutputFormat::Ndjson => {
                let objects: Vec<serde_json::Map<String, serde_json::Value>> = records
                    .iter()
                    .map(|record| {
                        columns
                            .iter()
                            .zip(record)
                            .map(|(c, v)| ((*c).to_owned(), v.clone().into()))
                            .collect()
                    })
                    .collect();
                if self.format == OutputFormat::Json {
                    serde_json::to_writer_pretty(&mut self.results, &objects)?;
                    writeln!(self.results)?;
                } else {
                    for object in &objects {
                        serde_json::to_writer(&mut self.results, object)?;
                        writeln!(self.results)?;
                    }
                }
            }
            OutputFormat::Parquet => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "this command has no Parquet output",
                ));
            }
            OutputFormat::Csv => {
                let mut writer = csv::Writer::from_writer(&mut self.results);
                writer.write_record(columns)?;
                for record in records {
                    writer.write_record(record)?;
                }
                writer.flush()?;
            }
        }
        self.results.flush()
    }
}

/// `--out FILE`: written under a temporary name beside it (`.FILE.partial`, created at the
/// first write, so a command that fails before it has results leaves nothing behind), and
/// renamed to `FILE` when the command succeeds or ends partial (exit 7). When it fails,
/// `FILE` is left as it was and what was written is kept under the temporary name: an
/// earlier result is never replaced by a half-written one, and finished work is not lost.
///
/// A symbolic link is followed (its target is what gets replaced, and keeps its
/// permissions); something that is not a regular file (`/dev/null`, a named pipe) is
/// written to directly.
#[derive(Debug)]
pub struct OutFile {
    /// Where the results end up (a link resolved).
    path: PathBuf,
    /// Written to directly, not replaced: a device or a pipe.
    direct: bool,
    /// The permissions of the file replaced, kept.
    permissions: Option<std::fs::Permissions>,
    file: Option<File>,
}

impl OutFile {
    /// The output at `path`, not created yet; refused (with the fix) when it cannot be
    /// written: a directory, or in a directory that does not exist. Checked before
    /// anything is sent, so a long series never runs for an output it cannot write.
    pub fn new(path: PathBuf) -> Result<Self, String> {
        let shown = path.display().to_string();
        let resolved = match std::fs::canonicalize(&path) {
            Ok(resolved) => resolved,
            // A link to a file not there yet: its target is what gets written.
            Err(_) => match std::fs::read_link(&path) {
                Ok(target) => path
                    .parent()
                    .map_or(target.clone(), |dir| dir.join(&target)),
                Err(_) => path.clone(),
            },
        };
        let out = |direct, permissions| Self {
            path: resolved.clone(),
            direct,
            permissions,
            file: None,
        };
        match std::fs::metadata(&resolved) {
            Ok(meta) if meta.is_dir() => Err(format!(
                "--out {shown} is a directory; give the name of a file in it"
            )),
            Ok(meta) if meta.is_file() => Ok(out(false, Some(meta.permissions()))),
            Ok(_) => Ok(out(true, None)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = resolved
                    .parent()
                    .filter(|dir| !dir.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                if parent.is_dir() {
                    Ok(out(false, None))
                } else {
                    Err(format!(
                        "--out {shown}: the directory {} does not exist; create it, or choose \
                         another path",
                        parent.display()
                    ))
                }
            }
            Err(e) => Err(format!("--out {shown}: {e}")),
        }
    }

    /// Where the results are written until the command ends.
    pub fn temporary(&self) -> PathBuf {
        if self.direct {
            return self.path.clone();
        }
        let name = self
            .path
            .file_name()
            .map_or_else(|| "out".into(), |name| name.to_string_lossy());
        self.path.with_file_name(format!(".{name}.partial"))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let temporary = self.temporary();
            let file = File::create(&temporary).map_err(|e| {
                io::Error::new(e.kind(), format!("--out {}: {e}", temporary.display()))
            })?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("--out: the file was not created"))
    }

    /// End the output: with `complete`, the results become `FILE`; otherwise they stay
    /// under the temporary name, which is returned (`None` when nothing was written, or
    /// when the output was written directly).
    pub fn finish(mut self, complete: bool) -> io::Result<Option<PathBuf>> {
        let Some(mut file) = self.file.take() else {
            return Ok(None);
        };
        file.flush()?;
        if self.direct {
            return Ok(None);
        }
        let temporary = self.temporary();
        if !complete {
            return Ok(Some(temporary));
        }
        let permissions = self.permissions.take();
        file.sync_all()
            .and_then(|()| match permissions {
                Some(permissions) => file.set_permissions(permissions),
                None => Ok(()),
            })
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "--out {}: {e} (the results are in {})",
                        self.path.display(),
                        temporary.display()
                    ),
                )
            })?;
        Ok(None)
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Where results are written: stdout, or `--out FILE`.
#[derive(Debug)]
pub enum Results {
    /// Standard output.
    Stdout(io::Stdout),
    /// `--out FILE`.
    File(OutFile),
}

impl Write for Results {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(out) => out.flush(),
        }
    }
}
