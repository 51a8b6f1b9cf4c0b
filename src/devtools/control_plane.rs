//! A throwaway control plane: etcd and kube-apiserver on 127.0.0.1 with
//! random free ports and temporary directories, the way envtest runs them.
//! No kubelet, scheduler or controllers: objects stay exactly as written,
//! statuses included.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Bearer tokens of the static users.
pub const ADMIN_TOKEN: &str = "vigil-test-admin";
/// User `vigil`, with no permissions until a test binds it.
pub const VIGIL_TOKEN: &str = "vigil-test-vigil";
/// User `nopods`, with no permissions until a test binds it.
pub const NOPODS_TOKEN: &str = "vigil-test-nopods";

pub struct ControlPlane {
    pub dir: tempfile::TempDir,
    etcd: Option<Child>,
    apiserver: Option<Child>,
    /// How to start the API server again (`restart_apiserver`).
    bin_dir: PathBuf,
    etcd_url: String,
    api_port: u16,
    pub url: String,
    /// PEM bundle that verifies the API server's serving certificate.
    pub ca_pem: String,
}

/// Children and directories to clean up when the process exits, even when
/// the `ControlPlane` is never dropped (a test suite's shared one lives in a
/// `static`).
static AT_EXIT: std::sync::Mutex<(Vec<u32>, Vec<PathBuf>)> =
    std::sync::Mutex::new((Vec::new(), Vec::new()));

extern "C" fn clean_up_at_exit() {
    let (pids, dirs) = match AT_EXIT.lock() {
        Ok(mut g) => (std::mem::take(&mut g.0), std::mem::take(&mut g.1)),
        Err(_) => return,
    };
    for pid in pids {
        // SAFETY: plain syscalls on a process this program started.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
            libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn register_at_exit(pid: Option<u32>, dir: Option<PathBuf>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a plain `extern "C"` function.
    ONCE.call_once(|| unsafe {
        libc::atexit(clean_up_at_exit);
    });
    if let Ok(mut g) = AT_EXIT.lock() {
        g.0.extend(pid);
        g.1.extend(dir);
    }
}

fn forget_at_exit(pid: u32) {
    if let Ok(mut g) = AT_EXIT.lock() {
        g.0.retain(|p| *p != pid);
    }
}

/// Starts `cmd` so that it dies with this process, however this process
/// ends (even SIGKILL): the kernel sends it SIGKILL when its parent thread
/// exits, so it is spawned from a thread that lives as long as the process.
fn spawn_tied(mut cmd: Command) -> std::io::Result<Child> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(cmd.spawn());
        loop {
            std::thread::park();
        }
    });
    let child = rx
        .recv()
        .map_err(|_| std::io::Error::other("the spawning thread died"))??;
    register_at_exit(Some(child.id()), None);
    Ok(child)
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> std::io::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(std::io::Error::other(format!(
        "{what} not ready after {}s",
        timeout.as_secs()
    )))
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver from `bin_dir` (holding `etcd` and
    /// `kube-apiserver`) and waits until the API server is ready.
    pub fn start(bin_dir: &Path) -> std::io::Result<ControlPlane> {
        let dir = tempfile::Builder::new()
            .prefix("vigil-control-plane-")
            .tempdir()?;
        register_at_exit(None, Some(dir.path().to_owned()));
        let d = dir.path();
        let (etcd_port, peer_port, api_port) = (free_port()?, free_port()?, free_port()?);
        let log = |name: &str| std::fs::File::create(d.join(name));

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let mut etcd = Command::new(bin_dir.join("etcd"));
        etcd.arg(format!("--data-dir={}", d.join("etcd").display()))
            .arg(format!("--listen-client-urls={etcd_url}"))
            .arg(format!("--advertise-client-urls={etcd_url}"))
            .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"
            ))
            .arg(format!(
                "--initial-cluster=default=http://127.0.0.1:{peer_port}"
            ))
            .args(["--unsafe-no-fsync", "--log-level=error"])
            .stdout(Stdio::null())
            .stderr(log("etcd.log")?);
        let etcd = spawn_tied(etcd)?;

        // Service-account signing key and the static users.
        let key = rcgen::KeyPair::generate().map_err(std::io::Error::other)?;
        std::fs::write(d.join("sa.key"), key.serialize_pem())?;
        std::fs::write(d.join("sa.pub"), key.public_key_pem())?;
        let mut tokens = std::fs::File::create(d.join("tokens.csv"))?;
        writeln!(tokens, "{ADMIN_TOKEN},admin,uid-admin,\"system:masters\"")?;
        writeln!(tokens, "{VIGIL_TOKEN},vigil,uid-vigil")?;
        writeln!(tokens, "{NOPODS_TOKEN},nopods,uid-nopods")?;

        let mut cp = ControlPlane {
            url: format!("https://127.0.0.1:{api_port}"),
            ca_pem: String::new(),
            etcd: Some(etcd),
            apiserver: None,
            bin_dir: bin_dir.to_owned(),
            etcd_url,
            api_port,
            dir,
        };
        cp.spawn_apiserver()?;
        let d = cp.dir.path().to_owned();
        let cert = d.join("certs").join("apiserver.crt");
        wait_for(
            "kube-apiserver serving certificate",
            Duration::from_secs(60),
            || cert.exists(),
        )?;
        wait_for("kube-apiserver", Duration::from_secs(90), || cp.ready())?;
        cp.ca_pem = std::fs::read_to_string(&cert)?;
        Ok(cp)
    }

    /// Stops the API server and starts it again on the same port, with the
    /// same certificates and etcd: watches break and must resume.
    pub fn restart_apiserver(&mut self) -> std::io::Result<()> {
        self.stop_apiserver();
        self.spawn_apiserver()?;
        wait_for("kube-apiserver", Duration::from_secs(90), || self.ready())
    }

    fn spawn_apiserver(&mut self) -> std::io::Result<()> {
        let d = self.dir.path().to_owned();
        let (etcd_url, api_port) = (&self.etcd_url, self.api_port);
        let mut apiserver = Command::new(self.bin_dir.join("kube-apiserver"));
        apiserver
            .arg(format!("--etcd-servers={etcd_url}"))
            .arg(format!("--cert-dir={}", d.join("certs").display()))
            .arg(format!("--secure-port={api_port}"))
            .args(["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"])
            // Room for the services of a generated 150k-pod cluster.
            .arg("--service-cluster-ip-range=10.96.0.0/16")
            .arg("--authorization-mode=RBAC")
            // Platform components (must-gathers) run privileged containers.
            .arg("--allow-privileged=true")
            .arg("--service-account-issuer=https://localhost")
            .arg(format!(
                "--service-account-key-file={}",
                d.join("sa.pub").display()
            ))
            .arg(format!(
                "--service-account-signing-key-file={}",
                d.join("sa.key").display()
            ))
            // No controllers run here: nothing would remove the not-ready taint
            // TaintNodesByCondition puts on every new node.
            // Pods keep the priority they were recorded with, even when this
            // cluster lacks their PriorityClass (openshift-user-critical).
            .arg("--disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority")
            .arg(format!(
                "--token-auth-file={}",
                d.join("tokens.csv").display()
            ))
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(d.join("apiserver.log"))?,
            );
        self.apiserver = Some(spawn_tied(apiserver)?);
        Ok(())
    }

    /// `/readyz` answers 200 (TLS not verified here: the CA is not read yet).
    fn ready(&self) -> bool {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .disable_verification(true)
                    .build(),
            )
            .build()
            .into();
        agent
            .get(format!("{}/readyz", self.url))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    }

    /// A kubeconfig file for the user with `token`, verifying TLS.
    pub fn kubeconfig(&self, name: &str, token: &str) -> std::io::Result<PathBuf> {
        use base64::Engine;
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: {name}\n  context: {{cluster: test, user: {name}}}\ncurrent-context: {name}\n",
                self.url,
                base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes())
            ),
        )?;
        Ok(path)
    }

    pub fn admin_kubeconfig(&self) -> std::io::Result<PathBuf> {
        self.kubeconfig("admin", ADMIN_TOKEN)
    }

    /// Stops the API server (etcd keeps running), to test an unreachable cluster.
    pub fn stop_apiserver(&mut self) {
        if let Some(mut c) = self.apiserver.take() {
            let _ = c.kill();
            let _ = c.wait();
            forget_at_exit(c.id());
        }
    }

    pub fn apiserver_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("apiserver.log")).unwrap_or_default()
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop_apiserver();
        if let Some(mut c) = self.etcd.take() {
            let _ = c.kill();
            let _ = c.wait();
            forget_at_exit(c.id());
        }
    }
}
