//! `export connections|dns`: a series written to Parquet, one file per window, in hive
//! partitions (`DIR/<kind>/date=YYYY-MM-DD/<start>_<end>.parquet`), resumable.
//!
//! The flags are the query's and are checked the same way, before anything is read,
//! written or sent. Then:
//!
//! 1. `DIR/<kind>/_manifest.json` is read, or written when the directory is new: it holds
//!    the query (endpoint, site, window, step, alignment, group-by, filters, limit,
//!    ranking) and the columns. A different query into the same directory is refused
//!    (exit 2) and nothing is touched.
//! 2. Files an interrupted run left unfinished (`.<name>.parquet.partial`) are removed;
//!    a window whose file is complete (renamed into place, so whole, and checked for the
//!    Parquet magic at both ends) is skipped; the others are fetched.
//! 3. Windows are written as they arrive, in window order, each to a temporary name in its
//!    partition, fsynced, then renamed: `**/*.parquet` never matches a partial file, and a
//!    file that exists is complete. Only the windows in flight are in memory.
//!
//! A failure keeps every file already written: run the same command again to fetch the
//! rest. With `--keep-going`, failed windows are named, the others written, and the exit
//! code is 7.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use datadog_cnm::arrow::PageSchema;
use datadog_cnm::parquet::PageWriter;
use datadog_cnm::{Connection, DnsRow, Error, Page, RateLimitWait, Row, Window};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::query::{Endpoint, Plan, non_metrics_of};
use super::warn;
use crate::cli::{ExportArgs, QueryArgs};
use crate::exit::Failure;
use crate::format;
use crate::settings::{Settings, Target, WaitNotice};
use crate::time::rfc3339;
use crate::view::parquet::{parquet_error, refuse_flags};
use crate::view::{for_terminal, truncation_note};

/// The manifest's file name, in `DIR/<kind>/`.
pub const MANIFEST: &str = "_manifest.json";
/// The version of the layout and manifest this code writes.
const FORMAT: u32 = 1;
/// What a temporary file's name ends with (never `.parquet`).
const PARTIAL: &str = ".partial";

/// Run `export connections` or `export dns` with `settings`; relative times count back
/// from `now`.
pub async fn run(
    endpoint: Endpoint,
    args: &ExportArgs,
    settings: &Settings,
    now: SystemTime,
) -> Result<(), Failure> {
    match endpoint {
        Endpoint::Connections => run_rows::<Connection>("connections", args, settings, now).await,
        Endpoint::Dns => run_rows::<DnsRow>("dns", args, settings, now).await,
    }
}

async fn run_rows<R: Row>(
    kind: &'static str,
    args: &ExportArgs,
    settings: &Settings,
    now: SystemTime,
) -> Result<(), Failure> {
    let query_args = &args.query;
    check_flags(query_args, settings)?;
    let Some(step) = query_args.step.map(|step| step.0) else {
        return Err(Failure::Usage(
            "export writes one Parquet file per window: give the window length with --step \
             (e.g. --step 1h)"
                .to_owned(),
        ));
    };
    let plan = Plan::<R>::new(query_args, settings, now)?;
    let windows = if plan.aligned {
        plan.window.split_aligned(step)?
    } else {
        plan.window.split(step)?
    };
    let schema = PageSchema::<R>::new(plan.group_by.iter().cloned())?;
    // One dataset is one organisation's: several targets would mix them in one manifest.
    let target = match settings.targets()? {
        [one] => one,
        several => {
            return Err(Failure::Usage(format!(
                "an export holds one organisation's data, and {} targets are configured; \
                 export each --profile or --site into a directory of its own",
                several.len()
            )));
        }
    };
    let bar = settings.progress_bar().then(progress_bar);
    let client = settings.client(target, plan.deadline, wait_notice(settings, bar.clone()))?;
    let site = client.site().domain().to_owned();
    let manifest = Manifest {
        format: FORMAT,
        written_by: format!("ddcnm {}", env!("CARGO_PKG_VERSION")),
        layout: "date=YYYY-MM-DD/<start>_<end>.parquet, times like 20261130T060000Z".to_owned(),
        query: Identity::new(kind, target, &site, &plan, step, query_args),
        columns: schema
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect(),
        windows: windows.len(),
    };
    // Nothing is written for a query that cannot run (a window not over yet, …).
    plan.query(&client, query_args)
        .series(plan.window, step)
        .aligned(plan.aligned)
        .check()?;
    let layout = Layout {
        root: args.dir.join(kind),
    };
    let removed = layout.open(&manifest)?;
    let mut done = HashSet::new();
    for window in &windows {
        if layout.complete(window)? {
            done.insert(*window);
        }
    }
    let skipped = done.len();
    let mut series = plan
        .query(&client, query_args)
        .series(plan.window, step)
        .aligned(plan.aligned)
        .retain(move |window| !done.contains(window));
    if let Some(concurrency) = plan.concurrency {
        series = series.concurrency(concurrency);
    }
    if let Some(deadline) = plan.deadline {
        series = series.deadline(deadline);
    }
    let todo = series.windows().len();
    if let Some(bar) = &bar {
        bar.set_length(todo as u64);
    }
    if settings.chatty() && todo == 0 {
        eprintln!(
            "every window ({}) is already in {}; nothing to fetch",
            windows.len(),
            layout.root.display()
        );
        return Ok(());
    }
    if settings.chatty() && (removed > 0 || skipped > 0) {
        let line = format!(
            "resuming the export in {}: {skipped} of {} windows already written, {todo} to \
             fetch{}",
            layout.root.display(),
            windows.len(),
            match removed {
                0 => String::new(),
                n => format!(" ({n} unfinished file{} removed)", plural(n)),
            }
        );
        say(bar.as_ref(), &line);
    }

    let started = Instant::now();
    let mut totals = Totals::default();
    let mut failed: Vec<(Window, Error)> = Vec::new();
    let mut writing: Option<tokio::task::JoinHandle<io::Result<Written>>> = None;
    let mut stopped: Option<Failure> = None;
    // Unknown attributes already warned about (once each, not once per window).
    let mut told = std::collections::BTreeSet::new();
    let mut stream = std::pin::pin!(series.keep_going().stream());
    while let Some((window, result)) = stream.next().await {
        match result {
            Ok(mut page) => {
                plan.rank(&mut page);
                let unknown: Vec<String> = non_metrics_of(&page.rows)
                    .into_iter()
                    .filter(|(name, _)| told.insert(name.clone()))
                    .map(|(name, value)| format!("{} ({value})", for_terminal(&name)))
                    .collect();
                if !unknown.is_empty() && settings.chatty() {
                    say(
                        bar.as_ref(),
                        &format!(
                            "warning: the server sent attributes this version does not know \
                             and cannot store as metrics (not integers): {}; they are not in \
                             the files (a newer ddcnm may know them)",
                            unknown.join(", ")
                        ),
                    );
                }
                // One window is written while the next ones are fetched.
                if let Some(previous) = writing.take()
                    && let Err(failure) = totals.add(previous.await, bar.as_ref())
                {
                    stopped = Some(failure);
                    break;
                }
                let (layout, schema, site) = (layout.clone(), schema.clone(), site.clone());
                writing = Some(tokio::task::spawn_blocking(move || {
                    layout.write(&page, schema, &site)
                }));
            }
            Err(error) if plan.keep_going => {
                say(bar.as_ref(), &format!("window {window} failed: {error}"));
                failed.push((window, error));
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            }
            Err(error) => {
                stopped = Some(Failure::Client(Error::Series {
                    window,
                    source: Box::new(error),
                }));
                break;
            }
        }
    }
    // Whatever happened, the window being written is finished and kept.
    if let Some(last) = writing.take()
        && let Err(failure) = totals.add(last.await, bar.as_ref())
    {
        stopped.get_or_insert(failure);
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if settings.chatty() {
        eprintln!(
            "{}",
            totals.summary(&layout.root, todo, skipped, started.elapsed())
        );
        if stopped.is_some() || !failed.is_empty() {
            let missing = todo - totals.windows;
            eprintln!(
                "{missing} window{} not written; run the same command again to fetch {}",
                plural(missing),
                if missing == 1 { "it" } else { "them" }
            );
        }
        if let Some(note) = truncation_note(totals.truncated, totals.windows, totals.limit) {
            warn(
                settings,
                &format!("{note} (the `truncated` column marks their rows)"),
            );
        }
    }
    if let Some(failure) = stopped {
        return Err(failure);
    }
    if !failed.is_empty() {
        let count = failed.len();
        let first = failed.into_iter().next().map(|(window, error)| {
            Failure::from(Error::Series {
                window,
                source: Box::new(error),
            })
        });
        return Err(match first {
            // Nothing was written this run: the failure itself, with its own exit code.
            Some(first) if count == todo => first,
            first => Failure::Partial {
                failed: count,
                total: todo,
                unit: "window",
                first: first.map(Box::new),
            },
        });
    }
    Ok(())
}

/// Refuse what an export cannot do, before anything happens.
fn check_flags(args: &QueryArgs, settings: &Settings) -> Result<(), Failure> {
    if settings.out.is_some() {
        return Err(Failure::Usage(
            "export writes files under --dir DIR; --out FILE is for the other commands' \
             results"
                .to_owned(),
        ));
    }
    refuse_flags(
        &[
            ("--compare", args.compare.is_some()),
            ("--rate", args.rate),
            ("--columns", !args.columns.is_empty()),
            ("--trend", args.trend.is_some()),
            ("--per-window", args.per_window),
        ],
        "export",
    )
    .map_err(Failure::Usage)
}

/// What makes two exports the same: everything that decides a window's rows, and the
/// windows themselves. Written into the manifest; a rerun must ask for the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    endpoint: String,
    /// The profile the keys and site came from, if any: two profiles on one site are most
    /// often two organisations, whose rows must not mix in one dataset. (Keys themselves
    /// are not recorded, not even as a digest: they rotate, and the export would then
    /// refuse to resume.)
    #[serde(default)]
    profile: Option<String>,
    /// The site's domain (the host of a custom base URL).
    site: String,
    /// The API base URL requests went to (with its port; secrets redacted).
    #[serde(default)]
    api: String,
    from: String,
    to: String,
    step_seconds: u64,
    aligned: bool,
    group_by: Vec<String>,
    tags: Vec<String>,
    query: Option<String>,
    limit: Option<u32>,
    sort_by: Option<String>,
    top: Option<u32>,
}

impl Identity {
    fn new<R: Row>(
        endpoint: &str,
        target: &Target,
        site: &str,
        plan: &Plan<R>,
        step: Duration,
        args: &QueryArgs,
    ) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            profile: target.profile.clone(),
            site: site.to_owned(),
            // `http://host:1` and `http://host:1/` are the same server.
            api: target
                .api_url()
                .map(|url| format!("{}/", url.trim_end_matches('/')))
                .unwrap_or_default(),
            from: rfc3339(plan.window.from),
            to: rfc3339(plan.window.to),
            step_seconds: step.as_secs(),
            aligned: plan.aligned,
            group_by: plan.group_by.clone(),
            tags: args.tags.iter().map(|t| t.trim().to_owned()).collect(),
            query: args.query.clone(),
            limit: plan.limit,
            sort_by: args
                .sort_by
                .as_ref()
                .map(|spec| format!("{}{}", spec.name, if spec.ascending { ":asc" } else { "" })),
            top: args.top,
        }
    }
}

/// `DIR/<kind>/_manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    /// The version of the layout.
    format: u32,
    /// The program that wrote it first.
    written_by: String,
    /// Where the files are.
    layout: String,
    /// The query.
    query: Identity,
    /// The columns of every file.
    columns: Vec<String>,
    /// Windows in the export.
    windows: usize,
}

impl Manifest {
    /// Why `self` (asked for now) cannot go where `existing` was written, if it cannot.
    fn differences(&self, existing: &Manifest) -> Vec<String> {
        let mut differences = Vec::new();
        if let (Ok(serde_json::Value::Object(here)), Ok(serde_json::Value::Object(there))) = (
            serde_json::to_value(&self.query),
            serde_json::to_value(&existing.query),
        ) {
            for (field, value) in &here {
                let before = there.get(field).unwrap_or(&serde_json::Value::Null);
                // Manifests of ddcnm 0.1 did not record the API URL.
                let unrecorded = field == "api" && before == "";
                if before != value && !unrecorded {
                    differences.push(format!("{field} is {before} there, {value} here"));
                }
            }
        }
        if self.format != existing.format {
            differences.push(format!(
                "its layout is version {}, this ddcnm writes version {}",
                existing.format, self.format
            ));
        } else if self.columns != existing.columns {
            differences.push(format!(
                "its files have other columns (written by {})",
                existing.written_by
            ));
        }
        differences
    }
}

/// Where an export's files go: `root` is `DIR/<kind>`.
#[derive(Clone, Debug)]
struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Make `root` the home of `manifest`'s export: create it and the manifest, or check
    /// that the one there is the same query; then remove the unfinished files of earlier
    /// runs. Returns how many were removed.
    fn open(&self, manifest: &Manifest) -> Result<usize, Failure> {
        let path = self.root.join(MANIFEST);
        match fs::read(&path) {
            Ok(bytes) => {
                let existing: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::Usage(format!(
                        "{} is not the manifest of a ddcnm export ({e}); choose another --dir",
                        path.display()
                    ))
                })?;
                let differences = manifest.differences(&existing);
                if !differences.is_empty() {
                    return Err(Failure::Usage(refusal(
                        &path,
                        manifest,
                        &existing,
                        &differences,
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if has_entries(&self.root).map_err(|e| self.failure("read", &self.root, e))? {
                    return Err(Failure::Usage(format!(
                        "{} holds files but no {MANIFEST}: it is not a ddcnm export; choose \
                         another --dir",
                        self.root.display()
                    )));
                }
                fs::create_dir_all(&self.root)
                    .map_err(|e| self.failure("create", &self.root, e))?;
                let text = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
                let temporary = self.root.join(format!(".{MANIFEST}{PARTIAL}"));
                write_durably(&temporary, &path, &text)
                    .map_err(|e| self.failure("write", &path, e))?;
            }
            Err(e) => return Err(self.failure("read", &path, e)),
        }
        self.remove_leftovers()
            .map_err(|e| self.failure("clean up", &self.root, e))
    }

    fn failure(&self, what: &str, path: &Path, error: io::Error) -> Failure {
        Failure::Other(format!("could not {what} {}: {error}", path.display()))
    }

    /// Remove temporary files (`.<name>.partial`) left by runs that did not finish.
    fn remove_leftovers(&self) -> io::Result<usize> {
        let mut removed = 0;
        let mut directories = vec![self.root.clone()];
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir()
                && entry.file_name().to_string_lossy().starts_with("date=")
            {
                directories.push(entry.path());
            }
        }
        for directory in directories {
            for entry in fs::read_dir(&directory)? {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') && name.ends_with(PARTIAL) && entry.file_type()?.is_file()
                {
                    fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// `date=2026-11-30`: the partition of `window`'s start (UTC).
    fn partition(&self, window: &Window) -> PathBuf {
        let start = rfc3339(window.from);
        self.root
            .join(format!("date={}", start.get(..10).unwrap_or(&start)))
    }

    /// `20261130T060000Z_20261130T070000Z`.
    fn stem(window: &Window) -> String {
        format!("{}_{}", compact(window.from), compact(window.to))
    }

    /// The file of `window`.
    fn file(&self, window: &Window) -> PathBuf {
        self.partition(window)
            .join(format!("{}.parquet", Self::stem(window)))
    }

    /// Where `window`'s file is written before it is complete.
    fn temporary(&self, window: &Window) -> PathBuf {
        self.partition(window)
            .join(format!(".{}.parquet{PARTIAL}", Self::stem(window)))
    }

    /// Whether `window`'s file is there and whole; one that is not whole is removed.
    fn complete(&self, window: &Window) -> Result<bool, Failure> {
        let path = self.file(window);
        let whole = is_parquet(&path).map_err(|e| self.failure("read", &path, e))?;
        if whole == Some(false) {
            fs::remove_file(&path).map_err(|e| self.failure("remove", &path, e))?;
        }
        Ok(whole == Some(true))
    }

    /// Write `page` to its window's file: a temporary name, fsync, rename, fsync of the
    /// directory. The temporary file is removed when anything fails.
    fn write<R: Row>(
        &self,
        page: &Page<R>,
        schema: PageSchema<R>,
        site: &str,
    ) -> io::Result<Written> {
        let partition = self.partition(&page.window);
        let new_partition = !partition.exists();
        fs::create_dir_all(&partition)?;
        if new_partition {
            sync_directory(&self.root)?;
        }
        let temporary = self.temporary(&page.window);
        let written = (|| {
            let file = File::create(&temporary)?;
            let mut writer = PageWriter::new(file, schema, site).map_err(parquet_error)?;
            writer.write(page).map_err(parquet_error)?;
            let file = writer.finish().map_err(parquet_error)?;
            file.sync_all()?;
            let bytes = file.metadata()?.len();
            fs::rename(&temporary, self.file(&page.window))?;
            sync_directory(&partition)?;
            Ok(Written {
                rows: page.rows.len(),
                bytes,
                truncated: page.truncated,
                limit: page.limit,
            })
        })();
        if written.is_err() {
            // Best effort: the next run removes it otherwise.
            let _ = fs::remove_file(&temporary);
        }
        written
    }
}

/// `2026-11-30T06:00:00Z` → `20261130T060000Z` (no colons: Hadoop paths reject them).
fn compact(time: SystemTime) -> String {
    rfc3339(time).replace(['-', ':'], "")
}

/// `Some(true)` when `path` is a file with the Parquet magic at both ends, `Some(false)`
/// when it is something else, `None` when it does not exist.
fn is_parquet(path: &Path) -> io::Result<Option<bool>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // Magic, footer length and magic at least.
    if file.metadata()?.len() < 12 {
        return Ok(Some(false));
    }
    let (mut head, mut tail) = ([0; 4], [0; 4]);
    file.read_exact(&mut head)?;
    file.seek(SeekFrom::End(-4))?;
    file.read_exact(&mut tail)?;
    Ok(Some(&head == b"PAR1" && &tail == b"PAR1"))
}

/// Whether `directory` exists and has entries other than hidden ones.
fn has_entries(directory: &Path) -> io::Result<bool> {
    match fs::read_dir(directory) {
        Ok(entries) => {
            for entry in entries {
                if !entry?.file_name().to_string_lossy().starts_with('.') {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Write `bytes` to `path` through `temporary`: written, fsynced, renamed, directory
/// fsynced.
fn write_durably(temporary: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut file = File::create(temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(temporary, path)?;
    match path.parent() {
        Some(parent) => sync_directory(parent),
        None => Ok(()),
    }
}

/// Make a rename or a new entry in `directory` durable (Unix; elsewhere the rename is
/// left to the file system).
fn sync_directory(directory: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(directory)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = directory;
        Ok(())
    }
}

/// The refusal of a different query into an export's directory.
fn refusal(path: &Path, asked: &Manifest, existing: &Manifest, differences: &[String]) -> String {
    let mut text = format!(
        "{} holds another export: {}. Choose another --dir, or run the export it holds",
        path.display(),
        differences.join("; ")
    );
    let range_differs =
        asked.query.from != existing.query.from || asked.query.to != existing.query.to;
    if range_differs {
        text.push_str(&format!(
            " (to resume it: --from {} --to {}; times relative to now, such as --last or -2h, \
             move between runs)",
            existing.query.from, existing.query.to
        ));
    }
    text
}

/// One window's file.
#[derive(Clone, Copy, Debug)]
struct Written {
    rows: usize,
    bytes: u64,
    truncated: bool,
    limit: u32,
}

/// What the run wrote.
#[derive(Debug, Default)]
struct Totals {
    windows: usize,
    rows: usize,
    bytes: u64,
    truncated: usize,
    limit: u32,
}

impl Totals {
    /// Count a finished write (or turn its failure into the command's).
    fn add(
        &mut self,
        joined: Result<io::Result<Written>, tokio::task::JoinError>,
        bar: Option<&ProgressBar>,
    ) -> Result<(), Failure> {
        let written = joined
            .map_err(|e| Failure::Other(format!("writing a window stopped: {e}")))?
            .map_err(|e| Failure::Other(format!("could not write a window's file: {e}")))?;
        self.windows += 1;
        self.rows += written.rows;
        self.bytes += written.bytes;
        self.truncated += usize::from(written.truncated);
        self.limit = self.limit.max(written.limit);
        if let Some(bar) = bar {
            bar.set_message(self.progress());
            bar.inc(1);
        }
        Ok(())
    }

    /// `90 000 rows, 4.1 MiB`.
    fn progress(&self) -> String {
        format!(
            "{} rows, {}",
            format::count(i64::try_from(self.rows).unwrap_or(i64::MAX)),
            format::bytes(i64::try_from(self.bytes).unwrap_or(i64::MAX))
        )
    }

    /// The closing line.
    fn summary(&self, root: &Path, todo: usize, skipped: usize, elapsed: Duration) -> String {
        let mut line = format!(
            "exported {} of {todo} window{} to {} in {:.1}s: {} of Parquet",
            self.windows,
            plural(todo),
            root.display(),
            elapsed.as_secs_f64(),
            self.progress()
        );
        if skipped > 0 {
            line.push_str(&format!(
                " ({skipped} window{} already there, skipped)",
                plural(skipped)
            ));
        }
        line
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Print `line` on stderr, above the bar when there is one.
fn say(bar: Option<&ProgressBar>, line: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// A bar on stderr: `[=====>    ] 3/12 windows · 22 500 rows, 1.0 MiB · 00:02 (eta 00:06)`.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} windows · {msg} · {elapsed} (eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The client's rate-limit hook: long waits shown on the bar, or as one line per wait on
/// stderr without one; nothing with `--quiet`.
fn wait_notice(settings: &Settings, bar: Option<ProgressBar>) -> Option<WaitNotice> {
    if !settings.chatty() {
        return None;
    }
    let last = Mutex::new(None::<Instant>);
    Some(Box::new(move |wait: &RateLimitWait| {
        if wait.wait < Duration::from_secs(1) {
            return;
        }
        let until = Instant::now() + wait.wait;
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        // Requests waiting for the same reset report it once.
        if last.is_some_and(|seen| until.saturating_duration_since(seen) < Duration::from_secs(1)) {
            return;
        }
        *last = Some(until);
        let line = format!(
            "waiting {}s for the API's rate limit",
            wait.wait.as_secs_f64().ceil()
        );
        match &bar {
            Some(bar) => bar.set_message(line),
            None if wait.wait >= Duration::from_secs(2) => eprintln!("{line}"),
            None => {}
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn window(from: u64, to: u64) -> Window {
        Window {
            from: UNIX_EPOCH + Duration::from_secs(from),
            to: UNIX_EPOCH + Duration::from_secs(to),
        }
    }

    #[test]
    fn files_are_named_by_their_window_in_compact_utc() {
        let layout = Layout {
            root: PathBuf::from("out/connections"),
        };
        // 2026-11-30T06:00:00Z to 07:00.
        let hour = window(1_796_018_400, 1_796_022_000);
        assert_eq!(
            layout.file(&hour),
            Path::new("out/connections/date=2026-11-30/20261130T060000Z_20261130T070000Z.parquet")
        );
        let temporary = layout.temporary(&hour);
        let name = temporary
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with('.') && !name.ends_with(".parquet"),
            "{name}"
        );
        assert_eq!(temporary.parent(), layout.file(&hour).parent());
    }

    #[test]
    fn a_refusal_names_what_differs_and_how_to_resume() {
        let identity = |from: &str, group_by: &[&str]| Identity {
            endpoint: "connections".to_owned(),
            profile: None,
            site: "datadoghq.com".to_owned(),
            api: "https://api.datadoghq.com/".to_owned(),
            from: from.to_owned(),
            to: "2026-11-30T12:00:00Z".to_owned(),
            step_seconds: 3600,
            aligned: true,
            group_by: group_by.iter().map(|g| (*g).to_owned()).collect(),
            tags: Vec::new(),
            query: None,
            limit: None,
            sort_by: None,
            top: None,
        };
        let manifest = |query| Manifest {
            format: FORMAT,
            written_by: "ddcnm test".to_owned(),
            layout: String::new(),
            query,
            columns: vec!["window_start".to_owned()],
            windows: 12,
        };
        let there = manifest(identity("2026-11-30T00:00:00Z", &["client_service"]));
        assert!(there.differences(&there).is_empty());
        let here = manifest(identity("2026-11-30T01:00:00Z", &["server_service"]));
        let differences = here.differences(&there);
        assert_eq!(differences.len(), 2, "{differences:?}");
        let text = refusal(Path::new("d/_manifest.json"), &here, &there, &differences);
        assert!(
            text.contains(r#"group_by is ["client_service"] there, ["server_service"] here"#),
            "{text}"
        );
        assert!(
            text.contains("--from 2026-11-30T00:00:00Z --to 2026-11-30T12:00:00Z"),
            "{text}"
        );
        // Another profile on the same site is most often another organisation.
        let mut staging = there.clone();
        staging.query.profile = Some("staging".to_owned());
        assert_eq!(
            staging.differences(&there),
            [r#"profile is null there, "staging" here"#]
        );
        // Another port of the same host is another server.
        let mut elsewhere = there.clone();
        elsewhere.query.api = "https://api.datadoghq.com:8443/".to_owned();
        assert_eq!(elsewhere.differences(&there).len(), 1);
        // A manifest of ddcnm 0.1 has no API URL: that alone does not refuse a resume.
        let mut older = there.clone();
        older.query.api = String::new();
        assert!(there.differences(&older).is_empty());
    }
}
