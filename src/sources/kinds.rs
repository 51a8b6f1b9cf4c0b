//! The kinds vigil reads from a cluster: their API groups, the versions it
//! can read, and which every API server serves. Listing (`live`), watching,
//! snapshots (which say which kinds they hold) and the checks' declared
//! needs all name kinds from here.

/// A kind vigil lists: its API group, the versions it can read (newest
/// first: older clusters serve only the older ones), and its resource name.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    pub kind: &'static str,
    pub group: &'static str,
    pub versions: &'static [&'static str],
    pub resource: &'static str,
    /// A cluster may lack it (OpenShift's Infrastructure on Kubernetes);
    /// the others every API server serves.
    pub optional: bool,
}

/// The kinds vigil lists, cluster-wide.
pub const LISTED: &[Listed] = &[
    core("Namespace", "namespaces"),
    core("Node", "nodes"),
    core("Pod", "pods"),
    core("Service", "services"),
    core("Endpoints", "endpoints"),
    core("Event", "events"),
    apps("Deployment", "deployments"),
    apps("ReplicaSet", "replicasets"),
    apps("StatefulSet", "statefulsets"),
    apps("DaemonSet", "daemonsets"),
    Listed {
        kind: "PodDisruptionBudget",
        group: "policy",
        versions: &["v1", "v1beta1"],
        resource: "poddisruptionbudgets",
        optional: true,
    },
    Listed {
        kind: "HorizontalPodAutoscaler",
        group: "autoscaling",
        versions: &["v2", "v2beta2", "v1"],
        resource: "horizontalpodautoscalers",
        optional: true,
    },
    Listed {
        kind: "EndpointSlice",
        group: "discovery.k8s.io",
        versions: &["v1", "v1beta1"],
        resource: "endpointslices",
        optional: true,
    },
    // Workload kinds vigil has no rules for: read to be listed as not judged.
    core("ReplicationController", "replicationcontrollers"),
    Listed {
        kind: "DeploymentConfig",
        group: "apps.openshift.io",
        versions: &["v1"],
        resource: "deploymentconfigs",
        optional: true,
    },
    Listed {
        kind: "Rollout",
        group: "argoproj.io",
        versions: &["v1alpha1"],
        resource: "rollouts",
        optional: true,
    },
    Listed {
        kind: "Infrastructure",
        group: "config.openshift.io",
        versions: &["v1"],
        resource: "infrastructures",
        optional: true,
    },
    // OpenShift's own health reports.
    Listed {
        kind: "ClusterOperator",
        group: "config.openshift.io",
        versions: &["v1"],
        resource: "clusteroperators",
        optional: true,
    },
    Listed {
        kind: "ClusterVersion",
        group: "config.openshift.io",
        versions: &["v1"],
        resource: "clusterversions",
        optional: true,
    },
    Listed {
        kind: "MachineConfigPool",
        group: "machineconfiguration.openshift.io",
        versions: &["v1"],
        resource: "machineconfigpools",
        optional: true,
    },
];

const fn core(kind: &'static str, resource: &'static str) -> Listed {
    Listed {
        kind,
        group: "",
        versions: &["v1"],
        resource,
        optional: false,
    }
}

const fn apps(kind: &'static str, resource: &'static str) -> Listed {
    Listed {
        kind,
        group: "apps",
        versions: &["v1"],
        resource,
        optional: false,
    }
}

impl Listed {
    pub(crate) fn group_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    pub(crate) fn path(&self, version: &str) -> String {
        if self.group.is_empty() {
            format!("/api/{version}/{}", self.resource)
        } else {
            format!("/apis/{}/{version}/{}", self.group, self.resource)
        }
    }
}
