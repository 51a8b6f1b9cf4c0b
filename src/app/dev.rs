//! `vigil dev ...`: tools for vigil's own tests and benchmarks (the
//! `devtools` feature; not in the product binary).

use crate::cli::DevCommand;
use crate::devtools::{control_plane::ControlPlane, load};
use crate::error::{Error, Result, Status};

pub fn dev(cmd: DevCommand) -> Result {
    match cmd {
        DevCommand::ControlPlane { control_plane } => control_plane_until_eof(&control_plane),
        DevCommand::Generate {
            pods,
            seed,
            output,
            yaml,
            must_gather,
        } => generate(pods, seed, &output, yaml, must_gather),
        DevCommand::OpenshiftOwners {
            ci_test_mapping,
            commit,
            out,
        } => openshift_owners(&ci_test_mapping, commit, &out),
        DevCommand::Load {
            from,
            cluster,
            parallel,
        } => load_state(&from, &cluster, parallel),
        DevCommand::Churn {
            cluster,
            rate,
            duration,
            seed,
        } => churn(&cluster, rate, duration, seed),
    }
}

fn churn(cluster: &crate::cli::ClusterArgs, rate: f64, duration: u64, seed: u64) -> Result {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
    let opts = super::args::live_options(cluster);
    let done = rt.block_on(async {
        let (client, _) = crate::sources::live::connect(&opts)
            .await
            .map_err(|e| Error::Unreachable(e.message().to_owned()))?;
        crate::devtools::churn::churn(client, rate, std::time::Duration::from_secs(duration), seed)
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))
    })?;
    println!(
        "churned {} pods and {} nodes: {} updates ({} failed) in {:.0}s, {:.1}/s",
        done.pods,
        done.nodes,
        done.updates,
        done.failed,
        done.seconds,
        done.updates as f64 / done.seconds.max(1e-9)
    );
    Ok(Status::Passed)
}

fn control_plane_until_eof(control_plane: &std::path::Path) -> Result {
    {
        let cp = ControlPlane::start(&control_plane.join("bin"))
            .map_err(|e| Error::Config(e.to_string()))?;
        let k = cp
            .admin_kubeconfig()
            .map_err(|e| Error::Config(e.to_string()))?;
        println!("{}", k.display());
        // Runs until stdin closes (or the process is killed).
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        Ok(Status::Passed)
    }
}

fn generate(
    pods: usize,
    seed: u64,
    output: &std::path::Path,
    yaml: bool,
    must_gather: bool,
) -> Result {
    {
        use crate::devtools::generate::{generate, Format};
        let format = match (yaml, must_gather) {
            (_, true) => Format::MustGather,
            (true, _) => Format::Yaml,
            _ => Format::Json,
        };
        let c = generate(output, pods, seed, format).map_err(|e| Error::Config(e.to_string()))?;
        println!(
            "{}: {} nodes, {} namespaces, {} workloads, {} pods, {} objects",
            output.display(),
            c.nodes,
            c.namespaces,
            c.workloads,
            c.pods,
            c.objects
        );
        Ok(Status::Passed)
    }
}

fn openshift_owners(
    ci_test_mapping: &std::path::Path,
    commit: Option<String>,
    out: &std::path::Path,
) -> Result {
    {
        use crate::devtools::owners::{read_checkout, render};
        let components =
            read_checkout(ci_test_mapping).map_err(|e| Error::Config(e.to_string()))?;
        let commit = commit
            .or_else(|| {
                std::process::Command::new("git")
                    .arg("-C")
                    .arg(ci_test_mapping)
                    .args(["log", "-1", "--format=%h %cs"])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            })
            .unwrap_or_else(|| "an unknown commit".to_owned());
        let text = render(
            &components,
            &format!("openshift-eng/ci-test-mapping at {commit}, pkg/components/*/component.go"),
        )
        .map_err(Error::Config)?;
        crate::atomic::write(out, crate::atomic::Existing::Replace, |w| {
            w.write_all(text.as_bytes())
        })
        .map_err(|source| Error::Write {
            path: out.to_owned(),
            source,
        })?;
        println!(
            "{}: {} components, {} namespaces",
            out.display(),
            components.len(),
            components.iter().map(|c| c.namespaces.len()).sum::<usize>()
        );
        Ok(Status::Passed)
    }
}

fn load_state(
    from: &[std::path::PathBuf],
    cluster: &crate::cli::ClusterArgs,
    parallel: usize,
) -> Result {
    {
        let objects = load::read_raw(from).map_err(|e| Error::Config(e.to_string()))?;
        let r = load::load_into(&super::args::live_options(cluster), objects, parallel)
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        println!(
            "created {}, already there {}, ignored {}, failed {}",
            r.created,
            r.existing,
            r.ignored,
            r.failed.len()
        );
        for f in r.failed.iter().take(20) {
            eprintln!("  {f}");
        }
        Ok(if r.failed.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        })
    }
}
