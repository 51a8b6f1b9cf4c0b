//! `ha/run-level`: the `openshift.io/run-level` namespace label exempts a
//! namespace's pods from security admission and the default node selector;
//! OpenShift's conventions keep it to the few platform namespaces that run
//! before the rest of the control plane exists.

use crate::checks::*;

pub struct RunLevel;

pub const LABEL: &str = "openshift.io/run-level";

/// The namespaces that carry the label in OpenShift itself (as read from
/// OpenShift 4 clusters' own namespaces): everything else is a finding.
pub const ALLOWED: &[&str] = &[
    "kube-system",
    "openshift-cloud-controller-manager",
    "openshift-cloud-controller-manager-operator",
    "openshift-cluster-machine-approver",
    "openshift-cluster-version",
    "openshift-config",
    "openshift-config-managed",
    "openshift-dns",
    "openshift-dns-operator",
    "openshift-etcd",
    "openshift-etcd-operator",
    "openshift-kni-infra",
    "openshift-kube-apiserver",
    "openshift-kube-apiserver-operator",
    "openshift-kube-controller-manager",
    "openshift-kube-controller-manager-operator",
    "openshift-kube-scheduler",
    "openshift-kube-scheduler-operator",
    "openshift-machine-config-operator",
    "openshift-multus",
    "openshift-network-operator",
    "openshift-nutanix-infra",
    "openshift-openstack-infra",
    "openshift-ovirt-infra",
    "openshift-ovn-kubernetes",
    "openshift-sdn",
    "openshift-vsphere-infra",
];

/// The values that exempt: the API server's admission looks for run-level
/// "0" or "1" only. OpenShift's own manifests write `""` to turn the
/// exemption off (insights-operator, openshift-controller-manager).
pub const EXEMPTING: &[&str] = &["0", "1"];

static INFO: CheckInfo = CheckInfo {
    id: "ha/run-level",
    monitor: Monitor::HaCompliance,
    subject: "namespace labels",
    should: "grant the run-level exemption only to platform namespaces",
    rule: "OpenShift convention, under --profile openshift: only OpenShift's own early platform namespaces carry \
           the openshift.io/run-level label with the value \"0\" or \"1\" (it exempts their pods from security admission; \
           any other value, such as the \"\" OpenShift writes to turn it off, exempts nothing)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: false,
    kinds: &["Namespace"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Namespace"],
};

impl Check for RunLevel {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn not_applicable(&self, ctx: &Context) -> Option<String> {
        openshift_only(ctx)
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let mut labelled: Vec<_> = ctx
            .cluster
            .namespace_labels
            .iter()
            .filter_map(|(ns, labels)| Some((ns, labels.get(LABEL)?)))
            .filter(|(_, level)| EXEMPTING.contains(level))
            .filter(|(ns, _)| !ALLOWED.contains(&ns.as_str()))
            .collect();
        labelled.sort();
        for (ns, level) in labelled {
            out.push(Finding::object_level(
                INFO.id,
                ns,
                "Namespace",
                ns,
                format!("{LABEL}={level:?}: exempts every pod here from security admission; only OpenShift's early platform namespaces may carry it"),
                Severity::Fail,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use crate::model::TopologyMode;

    #[test]
    fn only_platform_namespaces_carry_the_label() {
        let yaml = "---\nkind: Namespace\nmetadata: {name: openshift-etcd, labels: {openshift.io/run-level: '0'}}\n---\nkind: Namespace\nmetadata: {name: team-a, labels: {openshift.io/run-level: '1'}}\n---\nkind: Namespace\nmetadata: {name: team-b}\n---\nkind: Namespace\nmetadata: {name: openshift-insights, labels: {openshift.io/run-level: ''}}\n---\nkind: Namespace\nmetadata: {name: team-c, labels: {openshift.io/run-level: '2'}}\n";
        assert_eq!(
            lines(&run_with(&RunLevel, yaml, Profile::Openshift, TopologyMode::Ha)),
            ["Namespace/team-a: openshift.io/run-level=\"1\": exempts every pod here from security admission; only OpenShift's early platform namespaces may carry it"]
        );
    }
}
