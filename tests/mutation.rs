//! A bounded mutation test: the project's exception, policy and state files,
//! mutated a few hundred ways each (lines deleted, doubled or shifted, cuts
//! mid-file, hostile values, stray characters). Nothing panics, every
//! rejection names its file and line, and every state that still parses is
//! judged by every check without a panic.

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use vigil::exceptions::{Exceptions, Level};
use vigil::model::{Cluster, Topology, TopologyMode};
use vigil::outcomes::{evaluate, Scope};

/// Mutations per file.
const PER_FILE: usize = 120;

const NASTY: &[&str] = &[
    "-1",
    "0",
    "999999999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "2147483648",
    "1e309",
    "-0.5",
    "null",
    "~",
    "[]",
    "{}",
    "''",
    "\"\"",
    "\"\\u0000\"",
    "!!binary AAAA",
    "*nothing",
    "&anchor x",
    "? complex",
    "100%",
    "101%",
    "-50%",
    "0%",
    "abc%",
    "true",
    "0x10",
    "\"\\e[2J\"",
    "2026-13-45",
    "\"*\"",
    "\"[\"",
    "\"{a,b\"",
];

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return (text.to_owned(), "empty".into());
    }
    let i = rng.random_range(0..lines.len());
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let what = match rng.random_range(0..7) {
        0 => {
            out.remove(i);
            format!("deleted line {}", i + 1)
        }
        1 => {
            out.insert(i, lines[i].to_owned());
            format!("doubled line {}", i + 1)
        }
        2 => {
            let mut cut = rng.random_range(0..text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return (text[..cut].to_owned(), format!("cut at byte {cut}"));
        }
        3 => match lines[i].find(": ") {
            Some(at) => {
                let v = NASTY[rng.random_range(0..NASTY.len())];
                out[i] = format!("{}: {v}", &lines[i][..at]);
                format!("line {} value -> {v}", i + 1)
            }
            None => {
                out[i] = format!("{}{}", lines[i], NASTY[rng.random_range(0..NASTY.len())]);
                format!("line {} appended", i + 1)
            }
        },
        4 => {
            let c = ['\t', '"', ':', '{', '[', '\'', '-', '#', '&', '*', '|', '>']
                [rng.random_range(0..12)];
            let mut l = lines[i].to_owned();
            let mut at = rng.random_range(0..=l.len());
            while !l.is_char_boundary(at) {
                at -= 1;
            }
            l.insert(at, c);
            out[i] = l;
            format!("line {} inserted {c:?}", i + 1)
        }
        5 => {
            out[i] = format!("  {}", lines[i]);
            format!("line {} indented", i + 1)
        }
        _ => {
            out[i] = lines[i].trim_start().to_owned();
            format!("line {} dedented", i + 1)
        }
    };
    (out.join("\n") + "\n", what)
}

fn files_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    v.sort();
    v
}

/// Runs `f`, turning a panic into a reported failure.
fn no_panic(what: &str, f: impl FnOnce() -> Vec<String>) -> Vec<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| vec![format!("panic: {what}")])
}

#[test]
fn mutated_exception_and_policy_files_never_panic_and_always_name_the_place() {
    let mut failures = Vec::new();
    let mut rejected = 0;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let dir = tempfile::tempdir().unwrap();
    for source in files_in("testdata/exceptions/demo") {
        let name = source.file_name().unwrap().to_owned();
        let text = std::fs::read_to_string(&source).unwrap();
        for _ in 0..PER_FILE {
            let (mutated, how) = mutate(&text, &mut rng);
            for f in std::fs::read_dir(dir.path()).unwrap() {
                std::fs::remove_file(f.unwrap().path()).unwrap();
            }
            let target = dir.path().join(&name);
            std::fs::write(&target, &mutated).unwrap();
            let what = format!("{} ({how})", name.to_string_lossy());
            let found = no_panic(&what, || {
                let mut bad = Vec::new();
                if let Err(diags) = Exceptions::load(dir.path(), true) {
                    rejected += 1;
                    for d in diags.iter().filter(|d| d.level == Level::Error) {
                        if d.path != target || d.line.is_none() {
                            bad.push(format!("{what}: no file:line in {d}"));
                        }
                    }
                }
                bad
            });
            failures.extend(found);
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(rejected > 50, "the mutations do break files: {rejected}");
}

#[test]
fn mutated_state_files_never_panic_and_always_name_the_place() {
    let mut failures = Vec::new();
    let (mut rejected, mut judged) = (0, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let dir = tempfile::tempdir().unwrap();
    let limits = vigil::sources::Limits::default();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut sources = files_in("testdata/states/ha-cluster");
    sources.extend(files_in("testdata/states/broken-infra"));
    sources.extend(files_in("testdata/states/single-node"));
    for source in sources {
        let name = source.file_name().unwrap().to_owned();
        let text = std::fs::read_to_string(&source).unwrap();
        for _ in 0..PER_FILE {
            let (mutated, how) = mutate(&text, &mut rng);
            let target = dir.path().join(&name);
            std::fs::write(&target, &mutated).unwrap();
            let what = format!("{} ({how})", name.to_string_lossy());
            let found = no_panic(&what, || {
                let mut bad = Vec::new();
                let loaded =
                    vigil::sources::load_paths_with(std::slice::from_ref(&target), &limits);
                for p in &loaded.problems {
                    rejected += 1;
                    if p.path != target || p.line.is_none() {
                        bad.push(format!("{what}: no file:line in {p}"));
                    }
                }
                if loaded.problems.is_empty() {
                    judged += 1;
                    let cluster = Cluster::from_objects(loaded.objects);
                    for mode in [TopologyMode::Ha, TopologyMode::Auto] {
                        let topology = Topology::resolve(mode, &cluster);
                        for profile in [
                            vigil::checks::Profile::Generic,
                            vigil::checks::Profile::Openshift,
                        ] {
                            evaluate(
                                &cluster,
                                &Exceptions::default(),
                                &Scope {
                                    profile,
                                    topology: &topology,
                                    namespaces: None,
                                    today: now.date_naive(),
                                    now,
                                    missing: &[],
                                    not_served: &[],
                                    held: None,
                                },
                            );
                        }
                    }
                }
                bad
            });
            failures.extend(found);
            std::fs::remove_file(&target).unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        rejected > 100 && judged > 100,
        "both paths exercised: {rejected} rejected, {judged} judged"
    );
}
