//! `export` and `-o parquet`: files read back with the `parquet` crate and compared with
//! the JSON of the same query; resuming after a crash; refusals.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use datadog_cnm::arrow::arrow_array::{
    Array, BooleanArray, Int64Array, MapArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datadog_cnm::arrow::arrow_schema::{DataType, TimeUnit};
use datadog_cnm_mock::{Fault, MockServer, Target};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::support::{API_KEY, APP_KEY, FROM, Mock, expect, json, run};

/// A fresh directory for one test, inside the build's target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("export-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn batches(bytes: Vec<u8>) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One row, in a form both outputs can be brought to: the window's start (Unix seconds),
/// group-by values (`,`-joined, `N/A` as none) and metrics, by column name.
type Row = (
    i64,
    BTreeMap<String, Option<String>>,
    BTreeMap<String, Option<i64>>,
);

fn rows_of_batches(batches: &[RecordBatch], group_columns: &[&str]) -> Vec<Row> {
    let mut rows = Vec::new();
    for batch in batches {
        let start = batch.column_by_name("window_start").unwrap();
        let start = start
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        for i in 0..batch.num_rows() {
            let mut groups = BTreeMap::new();
            let mut metrics = BTreeMap::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                let name = field.name().clone();
                if group_columns.contains(&name.as_str()) {
                    let values = column.as_any().downcast_ref::<StringArray>().unwrap();
                    groups.insert(name, values.is_valid(i).then(|| values.value(i).to_owned()));
                } else if field.data_type() == &DataType::Int64 {
                    let values = column.as_any().downcast_ref::<Int64Array>().unwrap();
                    metrics.insert(name, values.is_valid(i).then(|| values.value(i)));
                }
            }
            rows.push((start.value(i) / 1_000_000, groups, metrics));
        }
    }
    rows.sort();
    rows
}

fn rows_of_json(rows: &Value, group_keys: &[&str]) -> Vec<Row> {
    let mut out = Vec::new();
    for row in rows.as_array().unwrap() {
        let object = row.as_object().unwrap();
        let start = object
            .get("window_start")
            .and_then(Value::as_str)
            .map_or(0, |t| jiff::Timestamp::from_str(t).unwrap().as_second());
        let mut groups = BTreeMap::new();
        for key in group_keys {
            let values: Vec<&str> = row["group_bys"][key]
                .as_array()
                .map(|values| {
                    values
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|v| *v != "N/A")
                        .collect()
                })
                .unwrap_or_default();
            let joined = (!values.is_empty()).then(|| values.join(","));
            groups.insert(key.replace('.', "_"), joined);
        }
        let mut metrics = BTreeMap::new();
        for (name, value) in object {
            if !["window_start", "window_end", "partial", "group_bys"].contains(&name.as_str()) {
                metrics.insert(name.replace('.', "_"), value.as_i64());
            }
        }
        out.push((start, groups, metrics));
    }
    out.sort();
    out
}

fn export_args<'a>(kind: &'a str, dir: &'a Path, to: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec![
        "export".to_owned(),
        kind.to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
        "--from".to_owned(),
        FROM.to_owned(),
        "--to".to_owned(),
        to.to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

const THREE_HOURS: &str = "2025-06-02T14:00:00Z";
const PAIR: [&str; 6] = [
    "--group-by",
    "client_service,server_service",
    "--limit",
    "40",
    "--step",
    "1h",
];

#[test]
fn an_export_holds_what_the_json_of_the_same_query_holds() {
    let mock = Mock::new();
    let dir = scratch("equal");
    let out = expect(
        mock.ddcnm()
            .args(export_args("connections", &dir, THREE_HOURS, &PAIR)),
        0,
    );
    assert!(
        out.stderr.contains("exported 3 of 3 windows") && out.stderr.contains("120 rows"),
        "{}",
        out.stderr
    );
    let written = files(&dir, ".parquet");
    let names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "connections/date=2025-06-02/20250602T110000Z_20250602T120000Z.parquet",
            "connections/date=2025-06-02/20250602T120000Z_20250602T130000Z.parquet",
            "connections/date=2025-06-02/20250602T130000Z_20250602T140000Z.parquet",
        ]
    );
    let manifest = json(&fs::read_to_string(dir.join("connections/_manifest.json")).unwrap());
    assert_eq!(manifest["query"]["step_seconds"], 3600);
    assert_eq!(manifest["windows"], 3);

    let mut all = Vec::new();
    for file in &written {
        let read = batches(fs::read(file).unwrap());
        assert_eq!(read.iter().map(RecordBatch::num_rows).sum::<usize>(), 40);
        all.extend(read);
    }
    let schema = all[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names[..5],
        [
            "window_start",
            "window_end",
            "site",
            "client_service",
            "server_service"
        ]
    );
    assert_eq!(names.len(), 5 + 17 + 2);
    assert_eq!(names[names.len() - 2..], ["extra_metrics", "truncated"]);
    assert_eq!(
        schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    let site = all[0].column_by_name("site").unwrap();
    let site = site.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(site.value(0), "127.0.0.1", "the host of the base URL");
    let truncated = all[0].column_by_name("truncated").unwrap();
    let truncated = truncated.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert!(truncated.value(0), "40 rows of a limit of 40");
    let extra = all[0].column_by_name("extra_metrics").unwrap();
    let extra = extra.as_any().downcast_ref::<MapArray>().unwrap();
    assert_eq!(
        extra.value_length(0),
        0,
        "the mock sends only known metrics"
    );

    let series = expect(
        mock.ddcnm()
            .args([
                "connections",
                "-o",
                "json",
                "--from",
                FROM,
                "--to",
                THREE_HOURS,
            ])
            .args(PAIR),
        0,
    );
    let keys = ["client_service", "server_service"];
    let from_json = rows_of_json(&json(&series.stdout), &keys);
    assert_eq!(from_json.len(), 120);
    assert_eq!(rows_of_batches(&all, &keys), from_json);
}

#[test]
fn dns_to_parquet_on_stdout_or_a_file_equals_dns_json() {
    let mock = Mock::new();
    let flags = [
        "--from",
        FROM,
        "--to",
        "2025-06-02T12:00:00Z",
        "--limit",
        "25",
    ];
    let dir = scratch("dns-out");
    let path = dir.join("dns.parquet");
    expect(
        mock.ddcnm()
            .args(["dns", "-o", "parquet", "--out", path.to_str().unwrap()])
            .args(flags),
        0,
    );
    let from_file = fs::read(&path).unwrap();
    let on_stdout = assert_cmd_stdout(&mock, &flags);
    assert_eq!(on_stdout, from_file, "the same bytes either way");
    let read = batches(from_file);
    let keys = ["network_dns_query"];
    let parquet_rows = rows_of_batches(&read, &keys);
    let json_rows = expect(mock.ddcnm().args(["dns", "-o", "json"]).args(flags), 0);
    let mut from_json = rows_of_json(&json(&json_rows.stdout), &["network.dns_query"]);
    // Without --step the JSON rows carry no window: take it from the file.
    let start = parquet_rows[0].0;
    for row in &mut from_json {
        row.0 = start;
    }
    from_json.sort();
    assert_eq!(parquet_rows.len(), 25);
    assert_eq!(parquet_rows, from_json);
    let names: Vec<String> = read[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert!(
        names.contains(&"dns_responses_nxdomain".to_owned()),
        "{names:?}"
    );
}

/// The raw bytes `-o parquet` writes to stdout.
fn assert_cmd_stdout(mock: &Mock, flags: &[&str]) -> Vec<u8> {
    let output = mock
        .ddcnm()
        .args(["dns", "-o", "parquet"])
        .args(flags)
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn parquet_refuses_flags_without_a_place_in_its_schema() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args(["connections", "-o", "parquet", "--rate", "--compare", "1d"])
            .args(["--from", FROM, "--to", "2025-06-02T12:00:00Z"]),
        2,
    );
    assert!(
        out.stderr.contains("--compare, --rate do not apply"),
        "{}",
        out.stderr
    );
    let clash = expect(
        mock.ddcnm()
            .args(["dns", "-o", "parquet", "--group-by", "a.b,a_b"])
            .args(["--from", FROM, "--to", "2025-06-02T12:00:00Z"]),
        2,
    );
    assert!(
        clash
            .stderr
            .contains("`a.b` and `a_b` would both be column `a_b`"),
        "{}",
        clash.stderr
    );
    let sites = expect(mock.ddcnm().args(["sites", "-o", "parquet"]), 2);
    assert!(
        sites.stderr.contains("-o parquet is for"),
        "{}",
        sites.stderr
    );
    let dir = scratch("refused-flags");
    let export = expect(
        mock.ddcnm().args(export_args(
            "dns",
            &dir,
            THREE_HOURS,
            &["--step", "1h", "--trend", "x"],
        )),
        2,
    );
    assert!(
        export.stderr.contains("--trend does not apply"),
        "{}",
        export.stderr
    );
    let no_step = expect(
        mock.ddcnm()
            .args(export_args("dns", &dir, THREE_HOURS, &[])),
        2,
    );
    assert!(no_step.stderr.contains("--step"), "{}", no_step.stderr);
    assert_eq!(mock.requests(), 0, "nothing was sent");
    assert!(files(&dir, "").is_empty(), "nothing was written");
}

#[test]
fn a_rerun_after_a_crash_fetches_only_what_is_missing() {
    let mock = Mock::new();
    let dir = scratch("resume");
    let args = export_args("connections", &dir, THREE_HOURS, &PAIR);
    expect(mock.ddcnm().args(&args), 0);
    let written = files(&dir, ".parquet");
    assert_eq!(written.len(), 3);
    let complete = fs::read(&written[1]).unwrap();
    // The crash: the last window's file never made it, the middle one was being
    // rewritten, and an earlier run's temporary file was left behind.
    fs::remove_file(&written[2]).unwrap();
    let partition = written[0].parent().unwrap();
    let leftover = partition.join(".20250602T130000Z_20250602T140000Z.parquet.partial");
    fs::write(&leftover, b"PAR1 half a file").unwrap();
    fs::write(&written[1], &complete[..complete.len() / 2]).unwrap();
    let before = mock.requests();

    let out = expect(mock.ddcnm().args(&args), 0);
    assert!(
        out.stderr
            .contains("1 of 3 windows already written, 2 to fetch (1 unfinished file removed)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        mock.requests() - before,
        2,
        "only the missing windows were fetched"
    );
    assert!(!leftover.exists());
    assert_eq!(files(&dir, ".parquet"), written);
    assert_eq!(files(&dir, ".partial"), Vec::<PathBuf>::new());
    assert_eq!(fs::read(&written[1]).unwrap(), complete, "rewritten whole");

    // Everything is there: a third run sends nothing.
    let before = mock.requests();
    let again = expect(mock.ddcnm().args(&args), 0);
    assert!(
        again.stderr.contains("every window (3) is already in")
            && again.stderr.contains("nothing to fetch"),
        "{}",
        again.stderr
    );
    assert_eq!(mock.requests(), before);
}

#[test]
fn a_different_query_into_the_same_directory_is_refused() {
    let mock = Mock::new();
    let dir = scratch("refused");
    expect(
        mock.ddcnm()
            .args(export_args("connections", &dir, THREE_HOURS, &PAIR)),
        0,
    );
    let manifest = fs::read(dir.join("connections/_manifest.json")).unwrap();
    let before = mock.requests();
    let other = ["--group-by", "client_team", "--limit", "40", "--step", "1h"];
    let out = expect(
        mock.ddcnm()
            .args(export_args("connections", &dir, THREE_HOURS, &other)),
        2,
    );
    assert!(
        out.stderr.contains("holds another export")
            && out.stderr.contains(
                r#"group_by is ["client_service","server_service"] there, ["client_team"] here"#
            ),
        "{}",
        out.stderr
    );
    let later = expect(
        mock.ddcnm().args(export_args(
            "connections",
            &dir,
            "2025-06-02T15:00:00Z",
            &PAIR,
        )),
        2,
    );
    assert!(
        later
            .stderr
            .contains("to resume it: --from 2025-06-02T11:00:00Z --to 2025-06-02T14:00:00Z"),
        "{}",
        later.stderr
    );
    assert_eq!(mock.requests(), before, "nothing was sent");
    assert_eq!(
        fs::read(dir.join("connections/_manifest.json")).unwrap(),
        manifest
    );
    assert_eq!(files(&dir, ".parquet").len(), 3);

    // DNS goes to its own directory beside it.
    expect(
        mock.ddcnm().args(export_args(
            "dns",
            &dir,
            THREE_HOURS,
            &["--step", "1h", "--limit", "5"],
        )),
        0,
    );
    assert_eq!(files(&dir.join("dns"), ".parquet").len(), 3);

    // A directory of other files is not taken over.
    let foreign = scratch("foreign");
    fs::create_dir_all(foreign.join("connections")).unwrap();
    fs::write(foreign.join("connections/notes.txt"), b"mine").unwrap();
    let taken = expect(
        mock.ddcnm()
            .args(export_args("connections", &foreign, THREE_HOURS, &PAIR)),
        2,
    );
    assert!(
        taken.stderr.contains("not a ddcnm export"),
        "{}",
        taken.stderr
    );
}

/// The issue's acceptance: against a rate-limited mock, an export killed mid-run and run
/// again holds every window exactly once, with what the JSON of the same query holds.
#[test]
fn an_export_killed_mid_run_then_run_again_holds_every_window_once() {
    let mock = Mock::start(MockServer::builder().rate_limit(4, Duration::from_secs(1)));
    let dir = scratch("killed");
    let to = "2025-06-02T23:00:00Z"; // 12 one-hour windows
    let args = export_args(
        "connections",
        &dir,
        to,
        &["--group-by", "client_team", "--limit", "20", "--step", "1h"],
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddcnm"))
        .env_clear()
        .env("DD_CNM_BASE_URL", mock.url())
        .env("DD_API_KEY", API_KEY)
        .env("DD_APP_KEY", APP_KEY)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The rate limit lets 4 windows through per second: kill it once the first is written.
    let give_up = Instant::now() + Duration::from_secs(30);
    while files(&dir, ".parquet").is_empty() {
        assert!(Instant::now() < give_up, "no window was written");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind
    child.wait().unwrap();
    let first_run = files(&dir, ".parquet").len();
    assert!(
        first_run < 12,
        "the kill came after the end: {first_run} windows"
    );

    let out = expect(mock.ddcnm().args(&args), 0);
    assert!(out.stderr.contains("already written"), "{}", out.stderr);
    let written = files(&dir, ".parquet");
    assert_eq!(written.len(), 12, "{written:?}");
    assert_eq!(files(&dir, ".partial"), Vec::<PathBuf>::new());
    let mut all = Vec::new();
    for file in &written {
        all.extend(batches(fs::read(file).unwrap()));
    }
    let from_files = rows_of_batches(&all, &["client_team"]);
    let series = expect(
        mock.ddcnm()
            .args(["connections", "-o", "json", "--from", FROM, "--to", to])
            .args(["--group-by", "client_team", "--limit", "20", "--step", "1h"]),
        0,
    );
    let from_json = rows_of_json(&json(&series.stdout), &["client_team"]);
    assert_eq!(from_files.len(), from_json.len());
    assert_eq!(from_files, from_json, "every window exactly once");
}

/// `--out FILE` replaces the file only when the command completes: a series that fails at
/// its third window leaves the earlier file as it was and keeps the two finished windows
/// beside it.
#[test]
fn out_file_is_replaced_only_when_the_command_completes() {
    let dir = scratch("out-file");
    let path = dir.join("rows.csv");
    let partial = dir.join(".rows.csv.partial");
    fs::write(&path, "precious\n").unwrap();
    let series = |mock: &Mock| {
        let out = run(mock
            .ddcnm()
            .args(["--max-attempts", "1", "--out", path.to_str().unwrap()])
            .args([
                "connections",
                "-o",
                "csv",
                "--step",
                "10m",
                "--concurrency",
                "1",
            ])
            .args(["--limit", "2", "--group-by", "client_env"])
            .args(["--from", FROM, "--to", "2025-06-02T12:00:00Z"]));
        (out.code, out.stderr)
    };
    let failing = Mock::start(
        MockServer::builder().fault(
            Fault::Status {
                status: 500,
                times: 1,
            }
            .on(Target::Request(3)),
        ),
    );
    let (code, stderr) = series(&failing);
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious\n");
    let kept = fs::read_to_string(&partial).unwrap();
    assert_eq!(
        kept.lines().count(),
        1 + 2 * 2,
        "a header and two windows: {kept}"
    );
    assert!(
        stderr.contains("rows.csv was left as it was") && stderr.contains(".rows.csv.partial"),
        "{stderr}"
    );
    let (code, stderr) = series(&Mock::new());
    assert_eq!(code, 0, "{stderr}");
    let written = fs::read_to_string(&path).unwrap();
    assert_eq!(written.lines().count(), 1 + 6 * 2, "{written}");
    assert!(!partial.exists(), "the temporary name is gone once renamed");
}

/// `--out` follows a link (its target is replaced and keeps its permissions), writes
/// into a device as it is, and is refused before anything is sent when it cannot be
/// written.
#[test]
fn out_file_follows_links_keeps_permissions_and_is_checked_first() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let dir = scratch("out-kinds");
    let target = dir.join("target.csv");
    fs::write(&target, "old\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mock = Mock::new();
    let query = |out: &Path| {
        run(mock
            .ddcnm()
            .args(["--out", out.to_str().unwrap(), "connections", "-o", "csv"])
            .args([
                "--limit",
                "2",
                "--from",
                FROM,
                "--to",
                "2025-06-02T12:00:00Z",
            ]))
    };
    let linked = query(&link);
    assert_eq!(linked.code, 0, "{}", linked.stderr);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).unwrap().lines().count(), 3);
    let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a private file stays private");
    let null = query(Path::new("/dev/null"));
    assert_eq!(null.code, 0, "{}", null.stderr);
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    let before = mock.requests();
    let nowhere = query(&dir.join("missing").join("rows.csv"));
    assert_eq!(nowhere.code, 2, "{}", nowhere.stderr);
    assert!(
        nowhere.stderr.contains("does not exist"),
        "{}",
        nowhere.stderr
    );
    let directory = query(&dir);
    assert_eq!(directory.code, 2, "{}", directory.stderr);
    assert_eq!(mock.requests(), before, "nothing was sent");
}

/// `--keep-going` exits 7 when some windows were written and others failed; when every
/// window failed, nothing is partial: the failure's own code (here 5, an API error).
#[test]
fn keep_going_exports_exit_partial_or_with_the_failure_when_all_failed() {
    let export = |mock: &Mock, dir: &Path| {
        run(mock
            .ddcnm()
            .args(["--max-attempts", "1", "export", "dns", "--keep-going"])
            .args(["--step", "20m", "--concurrency", "1", "--limit", "5"])
            .args(["--from", FROM, "--to", "2025-06-02T12:00:00Z"])
            .args(["--dir", dir.to_str().unwrap()]))
    };
    let failing =
        |times| Mock::start(MockServer::builder().fault(Fault::Status { status: 500, times }));
    let dir = scratch("keep-going-all");
    let all = export(&failing(3), &dir);
    assert_eq!(all.code, 5, "{}", all.stderr);
    let dir = scratch("keep-going-some");
    let some = export(&failing(1), &dir);
    assert_eq!(some.code, 7, "{}", some.stderr);
    assert_eq!(files(&dir, ".parquet").len(), 2);
}
