//! Where state lives in the inputs vigil reads: which file names are state
//! files (and which it must never open), and which files of an OpenShift
//! must-gather hold the kinds it reads. Shared by the directory walk and
//! the archive reader, so both read exactly the same files.

/// File names that hold kinds vigil must never read.
pub fn is_forbidden(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("secret") || lower.starts_with("configmap")
}

pub fn is_state_file(name: &str) -> bool {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".yaml", ".yml", ".json"].iter().any(|e| base.ends_with(e)) && !is_forbidden(name)
}

/// The per-namespace files of a must-gather that hold kinds vigil reads:
/// kind, group directory, file.
pub(crate) const NAMESPACED: &[(&str, &str, &str)] = &[
    ("Pod", "core", "pods.yaml"),
    ("Service", "core", "services.yaml"),
    ("Endpoints", "core", "endpoints.yaml"),
    ("Event", "core", "events.yaml"),
    ("Deployment", "apps", "deployments.yaml"),
    ("ReplicaSet", "apps", "replicasets.yaml"),
    ("StatefulSet", "apps", "statefulsets.yaml"),
    ("DaemonSet", "apps", "daemonsets.yaml"),
    ("PodDisruptionBudget", "policy", "poddisruptionbudgets.yaml"),
    (
        "HorizontalPodAutoscaler",
        "autoscaling",
        "horizontalpodautoscalers.yaml",
    ),
    ("EndpointSlice", "discovery.k8s.io", "endpointslices.yaml"),
    // Read only to be listed as not judged.
    (
        "ReplicationController",
        "core",
        "replicationcontrollers.yaml",
    ),
    (
        "DeploymentConfig",
        "apps.openshift.io",
        "deploymentconfigs.yaml",
    ),
    ("Rollout", "argoproj.io", "rollouts.yaml"),
];

/// Whether `namespaces/<ns>/<group>/<file>` of a must-gather holds a kind
/// vigil reads.
pub(crate) fn is_must_gather_file(group: &str, file: &str) -> bool {
    NAMESPACED.iter().any(|(_, g, f)| *g == group && *f == file)
}

/// The cluster-scoped files of a must-gather vigil reads, below
/// `cluster-scoped-resources/`: a file, or every `*.yaml` in a directory
/// (`core/nodes/`).
pub(crate) const CLUSTER_FILES: &[&[&str]] = &[
    &["core", "nodes", "*"],
    &["config.openshift.io", "infrastructures.yaml"],
    &["config.openshift.io", "clusteroperators.yaml"],
    &["config.openshift.io", "clusterversions.yaml"],
    &[
        "machineconfiguration.openshift.io",
        "machineconfigpools",
        "*",
    ],
];

/// Whether a path below `cluster-scoped-resources/` (split in parts) is one
/// vigil reads.
pub(crate) fn is_must_gather_cluster_file(parts: &[&str]) -> bool {
    CLUSTER_FILES.iter().any(|want| {
        want.len() == parts.len()
            && want.iter().zip(parts).all(
                |(w, p)| {
                    if *w == "*" {
                        is_state_file(p)
                    } else {
                        w == p
                    }
                },
            )
    })
}

/// Where a must-gather keeps a namespaced kind vigil reads, below
/// `namespaces/<ns>/`: group directory and file name.
pub fn must_gather_file(kind: &str) -> Option<(&'static str, &'static str)> {
    NAMESPACED
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, group, file)| (*group, *file))
}
