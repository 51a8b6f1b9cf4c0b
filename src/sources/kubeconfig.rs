//! Reading a kubeconfig as kubectl does, under vigil's bounds.
//!
//! kube-rs would read the kubeconfig, the files it names (certificates,
//! keys, token files) and an exec credential plugin's output whole, however
//! large: `--kubeconfig /dev/zero` or a plugin printing gigabytes would end
//! in an out-of-memory kill with no JUnit. So vigil reads the kubeconfig
//! itself through [`crate::input`], checks each file it names before kube-rs
//! reads it, refuses credentials that cannot be sent as a header (a token
//! with a line break), registers every secret for masking, and runs exec
//! plugins through `vigil credential-guard`, which bounds what they print
//! and how long they take (kube-rs still runs it, and refreshes it, as
//! kubectl would).

use std::path::{Path, PathBuf};

use kube::config::{Kubeconfig, KubeconfigError};

use crate::input::{self, KUBECONFIG};

/// A kubeconfig that could not be used: what is wrong, never quoting it.
pub type Problem = String;

/// Reads and merges the kubeconfig files, as kubectl merges `KUBECONFIG`.
pub fn read(paths: &[PathBuf]) -> Result<Kubeconfig, Problem> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        let config = read_one(path)?;
        merged = Some(match merged {
            None => config,
            Some(m) => m
                .merge(config)
                .map_err(|e| format!("kubeconfig {}: cannot merge it: {e}", path.display()))?,
        });
    }
    Ok(merged.unwrap_or_default())
}

fn read_one(path: &Path) -> Result<Kubeconfig, Problem> {
    let bytes = input::read_file(path, KUBECONFIG)
        .map_err(|e| format!("kubeconfig {}: cannot read: {e}", path.display()))?;
    let text = decode_text(bytes).map_err(|why| format!("kubeconfig {}: {why}", path.display()))?;
    let mut config = Kubeconfig::from_yaml(&text).map_err(|e| parse_error(&e, path))?;
    if let Some(dir) = path.parent() {
        absolute_paths(&mut config, dir);
    }
    Ok(config)
}

/// UTF-8 (with or without a byte order mark) or UTF-16 with one, as
/// kubectl accepts.
fn decode_text(bytes: Vec<u8>) -> Result<String, String> {
    let utf16 = |b: &[u8], le: bool| {
        let units: Vec<u16> = b
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "not valid UTF-16 text".to_owned())
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "not valid UTF-8 text".to_owned())
        }
        _ => String::from_utf8(bytes).map_err(|_| "not valid UTF-8 text".to_owned()),
    }
}

/// A kubeconfig that does not parse, named by line, never quoted: a YAML
/// error's snippet would print the token line.
pub fn parse_error(e: &KubeconfigError, path: &Path) -> Problem {
    let what = match e {
        KubeconfigError::ReadConfig(io, p) => format!("cannot read {}: {io}", p.display()),
        KubeconfigError::Parse(y) => match y.location() {
            Some(l) => format!(
                "not valid kubeconfig YAML at line {}, column {} (the line is not shown: it may hold a credential)",
                l.line(),
                l.column()
            ),
            None => "not valid kubeconfig YAML".into(),
        },
        other => crate::redact::text(&other.to_string()),
    };
    format!("kubeconfig {}: {what}", path.display())
}

/// Files a kubeconfig names are relative to its directory, as kubectl reads them.
fn absolute_paths(config: &mut Kubeconfig, dir: &Path) {
    let abs = |p: &mut Option<String>| {
        if let Some(f) = p {
            if Path::new(f).is_relative() {
                if let Some(s) = dir.join(&*f).to_str() {
                    *f = s.to_owned();
                }
            }
        }
    };
    for named in &mut config.clusters {
        if let Some(c) = &mut named.cluster {
            abs(&mut c.certificate_authority);
        }
    }
    for named in &mut config.auth_infos {
        if let Some(a) = &mut named.auth_info {
            abs(&mut a.client_certificate);
            abs(&mut a.client_key);
            abs(&mut a.token_file);
            if let Some(exec) = &mut a.exec {
                // Only commands with a path separator: `aws` is looked up in PATH.
                if exec
                    .command
                    .as_deref()
                    .is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
                {
                    abs(&mut exec.command);
                }
            }
        }
    }
}

/// Every credential a kubeconfig holds, registered for masking.
pub fn register_secrets(kc: &Kubeconfig) {
    use secrecy::ExposeSecret;
    for named in &kc.auth_infos {
        let Some(a) = &named.auth_info else { continue };
        for s in [&a.token, &a.password, &a.client_key_data]
            .into_iter()
            .flatten()
        {
            crate::redact::register(s.expose_secret());
        }
        if let Some(exec) = &a.exec {
            for arg in exec.args.iter().flatten() {
                // `--flag=value`: the value alone may be the secret.
                crate::redact::register(arg);
                if let Some((_, v)) = arg.split_once('=') {
                    crate::redact::register(v);
                }
            }
            for env in exec.env.iter().flatten() {
                if let Some(v) = env.get("value") {
                    crate::redact::register(v);
                }
            }
        }
        if let Some(p) = &a.auth_provider {
            for v in p.config.values() {
                crate::redact::register(v);
            }
        }
    }
}

/// Checks what kube-rs will read or send for the users and clusters of a
/// kubeconfig: every file it names is a regular file within the bound,
/// and every credential fits in an HTTP header. Token files are read here
/// (bounded) to register and check their tokens.
pub fn check(kc: &Kubeconfig, described: &str) -> Result<(), Problem> {
    use secrecy::ExposeSecret;
    let file = |field: &str, path: &Option<String>| -> Result<(), Problem> {
        match path {
            Some(p) => input::check_file(Path::new(p), KUBECONFIG)
                .map_err(|e| format!("{described}: the file its {field} names, {p}: {e}")),
            None => Ok(()),
        }
    };
    for named in &kc.clusters {
        if let Some(c) = &named.cluster {
            file("certificate-authority", &c.certificate_authority)?;
        }
    }
    for named in &kc.auth_infos {
        let Some(a) = &named.auth_info else { continue };
        let user = &named.name;
        file("client-certificate", &a.client_certificate)?;
        file("client-key", &a.client_key)?;
        file("tokenFile", &a.token_file)?;
        if let Some(p) = &a.token_file {
            let token = input::read_to_string(Path::new(p), KUBECONFIG)
                .map_err(|e| format!("{described}: the tokenFile of user {user:?}, {p}: {e}"))?;
            crate::redact::register(token.trim());
            crate::outbound::check_header_value(
                token.trim(),
                &format!("the token in the tokenFile of user {user:?}"),
            )
            .map_err(|e| format!("{described}: {e}"))?;
        }
        if let Some(t) = &a.token {
            crate::outbound::check_header_value(
                t.expose_secret(),
                &format!("the token of user {user:?}"),
            )
            .map_err(|e| format!("{described}: {e}"))?;
        }
        for (what, v) in [
            ("username", a.username.as_deref()),
            ("password", a.password.as_ref().map(|p| p.expose_secret())),
        ] {
            if let Some(v) = v {
                crate::outbound::check_header_value(v, &format!("the {what} of user {user:?}"))
                    .map_err(|e| format!("{described}: {e}"))?;
            }
        }
    }
    Ok(())
}

/// Runs every exec credential plugin through `vigil credential-guard`:
/// kube-rs starts vigil, which starts the plugin with its arguments and
/// environment, passes on at most [`input::PLUGIN_OUTPUT`] of what it
/// prints and stops it after `timeout`.
pub fn guard_exec_plugins(kc: &mut Kubeconfig, timeout: std::time::Duration) {
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let Some(me) = me.to_str().map(str::to_owned) else {
        return;
    };
    for named in &mut kc.auth_infos {
        let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) else {
            continue;
        };
        let Some(command) = exec.command.take() else {
            continue;
        };
        let mut args = vec![
            CREDENTIAL_GUARD.to_owned(),
            "--timeout".to_owned(),
            timeout.as_secs().max(1).to_string(),
            "--".to_owned(),
            command,
        ];
        args.extend(exec.args.take().unwrap_or_default());
        exec.command = Some(me.clone());
        exec.args = Some(args);
    }
}

/// The hidden subcommand that runs an exec plugin under vigil's bounds.
pub const CREDENTIAL_GUARD: &str = "credential-guard";

/// `vigil credential-guard --timeout S -- COMMAND ARGS...`: runs the plugin
/// with this process's environment and standard input and error (an
/// interactive login still works), and returns what it printed on standard
/// output, at most [`input::PLUGIN_OUTPUT`], or why not.
pub fn run_plugin(
    command: &std::ffi::OsStr,
    args: &[std::ffi::OsString],
    timeout: std::time::Duration,
) -> Result<(Vec<u8>, std::process::ExitStatus), String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(command)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the exec credential plugin: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || input::read_all(stdout, input::PLUGIN_OUTPUT));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the exec credential plugin did not finish within {}s; it was stopped",
                timeout.as_secs()
            ));
        }
        if reader.is_finished() {
            // Printed too much (the reader stopped at the bound): stop it.
            let _ = child.kill();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = reader
        .join()
        .map_err(|_| "reading the plugin's output failed".to_owned())?
        .map_err(|e| format!("the exec credential plugin's output: {e}"))?;
    Ok((out, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_it_names_are_bounded_and_regular() {
        let d = tempfile::tempdir().unwrap();
        let kc_path = d.path().join("config");
        std::fs::write(
            &kc_path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://127.0.0.1:1, certificate-authority: /dev/zero}\nusers:\n- name: u\n  user: {token: abcdef}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
        )
        .unwrap();
        let kc = read(std::slice::from_ref(&kc_path)).unwrap();
        let e = check(&kc, "kubeconfig config").unwrap_err();
        assert!(
            e.contains("certificate-authority names, /dev/zero") && e.contains("a device"),
            "{e}"
        );
        let e = read(&[PathBuf::from("/dev/zero")]).unwrap_err();
        assert!(e.contains("a device"), "{e}");
    }

    #[test]
    fn a_token_with_a_line_break_is_a_configuration_error() {
        let kc = Kubeconfig::from_yaml(
            "users:\n- name: u\n  user: {token: \"abc\\r\\nX-Injected: 1\"}\n",
        )
        .unwrap();
        let e = check(&kc, "kubeconfig k").unwrap_err();
        assert!(e.contains("line break") && !e.contains("X-Injected"), "{e}");
    }

    #[test]
    fn relative_paths_are_the_kubeconfig_s_directory() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("ca.crt"), "x").unwrap();
        let p = d.path().join("kc");
        std::fs::write(
            &p,
            "clusters:\n- name: c\n  cluster: {server: https://x, certificate-authority: ca.crt}\n",
        )
        .unwrap();
        let kc = read(&[p]).unwrap();
        let ca = kc.clusters[0]
            .cluster
            .as_ref()
            .unwrap()
            .certificate_authority
            .clone()
            .unwrap();
        assert_eq!(PathBuf::from(ca), d.path().join("ca.crt"));
    }

    #[test]
    fn a_plugin_that_prints_too_much_or_hangs_is_stopped() {
        let long = run_plugin(
            std::ffi::OsStr::new("sh"),
            &["-c".into(), "yes x".into()],
            std::time::Duration::from_secs(20),
        );
        let e = long.unwrap_err();
        assert!(
            e.contains("limit on what an exec credential plugin prints"),
            "{e}"
        );
        let hang = run_plugin(
            std::ffi::OsStr::new("sleep"),
            &["30".into()],
            std::time::Duration::from_millis(300),
        );
        assert!(hang.unwrap_err().contains("did not finish within"));
        let (out, status) = run_plugin(
            std::ffi::OsStr::new("sh"),
            &["-c".into(), "printf '{\"ok\":1}'".into()],
            std::time::Duration::from_secs(20),
        )
        .unwrap();
        assert!(status.success());
        assert_eq!(out, b"{\"ok\":1}");
    }
}
