//! The attack suite: every promise of "What vigil promises when things go
//! wrong" (README), tried against every command that could break it, the
//! way a hostile cluster, a hostile pull request, a hostile Jira, a forged
//! CI artifact or a CI pod's memory limit would try.
//!
//! One module per promise. Each test drives the real binary; the live ones
//! talk to a real kube-apiserver, through the fault-injecting proxy where a
//! fault is needed, or to a scripted server (`common/server.rs`) standing in
//! for Jira or a hostile API server. The bounded inputs also run under a
//! 512 MiB address-space limit (`memory_limited`): an out-of-memory kill
//! leaves no JUnit, so a bound that does not hold fails there.
//!
//! A new command joins by adding itself to each table it belongs to: the
//! commands that print outside text (`terminal::PRINTERS`), the commands
//! that write JUnit (`always_a_result::JUNIT_WRITERS`), and, for each input
//! it reads, a case in `bounded`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/proxy.rs"]
mod proxy;
#[path = "../common/server.rs"]
mod server;

mod always_a_result;
mod artifacts;
mod bounded;
mod credentials;
mod disruption;
mod no_data;
mod terminal;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;
use vigil::devtools::control_plane::{ControlPlane, ADMIN_TOKEN};

/// The address space a bounded run gets: a CI pod's memory limit.
pub const MEMORY_LIMIT: u64 = 512 << 20;

/// The test control plane, loaded with the sample cluster, shared by the
/// live attacks of this binary.
pub fn cluster() -> &'static ControlPlane {
    static CP: OnceLock<ControlPlane> = OnceLock::new();
    CP.get_or_init(|| {
        let cp = start();
        load_into(
            &cp,
            &[Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/states/ha-cluster")],
        );
        cp
    })
}

pub fn proxy() -> proxy::Proxy {
    let cp = cluster();
    proxy::Proxy::start(&cp.url, &cp.ca_pem, ADMIN_TOKEN)
}

/// `vigil args...` from the crate root, colour off, no ARTIFACT_DIR.
pub fn vigil_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_DIR")
        .env_remove("JIRA_TOKEN")
        .env_remove("KUBECONFIG")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY");
    c
}

/// Runs `cmd` under [`MEMORY_LIMIT`] of address space.
pub fn memory_limited(cmd: &mut Command) -> Output {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

/// The one JUnit file in `dir`, parsed: the suite.
pub fn suite_in(dir: &Path) -> Suite {
    parse_junit(&std::fs::read_to_string(junit_file(dir)).unwrap()).remove(0)
}

/// A meta test's outcome and text: `pass`, `fail` or `skip`.
pub fn meta_of(suite: &Suite, name: &str) -> (&'static str, String) {
    let c = suite
        .cases
        .iter()
        .find(|c| c.name == format!("[Monitor:vigil] {name}"))
        .unwrap_or_else(|| panic!("no [Monitor:vigil] {name} in {:?}", suite.cases));
    match (&c.failure, &c.skipped) {
        (Some((m, b)), _) => ("fail", format!("{m}\n{b}")),
        (_, Some(m)) => ("skip", m.clone()),
        _ => ("pass", c.system_out.clone().unwrap_or_default()),
    }
}

/// Only vigil's own tests: nothing was judged.
pub fn only_meta(suite: &Suite) -> bool {
    suite
        .cases
        .iter()
        .all(|c| c.name.starts_with("[Monitor:vigil]"))
}

/// No check test passed: every one skipped or absent.
pub fn nothing_passed(suite: &Suite) -> bool {
    sippy_outcomes(suite)
        .iter()
        .filter(|(n, _)| !n.starts_with("[Monitor:vigil]"))
        .all(|(_, o)| *o == "skip")
}

/// Everything a command printed.
pub fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A directory `run` reads a state from, written from `(name, text)`.
pub fn state(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    let p = d.path().to_owned();
    (d, p)
}
