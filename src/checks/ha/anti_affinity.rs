//! `ha/anti-affinity`: replicated workloads ask the scheduler to put their
//! replicas on different nodes.

use crate::checks::*;
use crate::model::objects::{PodAffinityTerm, Workload};
use crate::model::selector::{format_labels, optional_matches};

pub struct AntiAffinity;

pub const HOSTNAME: &str = "kubernetes.io/hostname";

static INFO: CheckInfo = CheckInfo {
    id: "ha/anti-affinity",
    monitor: Monitor::HaCompliance,
    subject: "workloads",
    should: "spread replicas across nodes by pod anti-affinity",
    rule: "Deployments and StatefulSets with replicas >= 2 declare required or preferred pod anti-affinity, \
           or a topology spread constraint, on kubernetes.io/hostname whose selector matches their own pods \
           (and, for anti-affinity, whose namespaces or namespaceSelector include their own namespace); \
           replicas that bind a host port (or a port on the host network) can never share a node and pass; \
           under --profile openshift, 2 replicas want a hard constraint (required anti-affinity, or a DoNotSchedule topology \
           spread with maxSkew 1) and 3 or more off the control plane preferred (soft) anti-affinity; origin has no test \
           of this split: it is the conventions' text (enhancements CONVENTIONS.md, High Availability)",
    default_mode: Mode::Blocking,
    default_lifecycle: Lifecycle::Blocking,
    multi_node: true,
    kinds: &["Deployment", "StatefulSet"],
    thresholds: &[],
    cluster_scoped: None,
    per_object: None,
    needs: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler"],
};

impl Check for AntiAffinity {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        for (_, w, replicas) in ctx.replicated() {
            // Two replicas binding the same host port never fit on one node:
            // the scheduler spreads them without being asked.
            if !w.spec.template.spec.host_ports().is_empty() {
                continue;
            }
            let spread = Spread::of(ctx, w);
            let detail = if spread.any() {
                (ctx.profile == Profile::Openshift)
                    .then(|| openshift_split(w, replicas, &spread))
                    .flatten()
            } else {
                Some(why_not_spread(w, replicas, &spread))
            };
            if let Some(d) = detail {
                out.push(workload_finding(&INFO, w, None, d));
            }
        }
    }
}

/// What a template declares about spreading its own pods over nodes.
struct Spread<'w> {
    /// Every anti-affinity term, required and preferred.
    terms: Vec<&'w PodAffinityTerm>,
    /// Required hostname anti-affinity over its own pods.
    required: bool,
    /// Any hostname anti-affinity term over its own pods.
    anti_affinity: bool,
    /// A hostname topology spread constraint over its own pods.
    spread: bool,
    /// ... with `whenUnsatisfiable: DoNotSchedule` and `maxSkew: 1`: two
    /// pods never share a node while another node can take one (a hard
    /// constraint, as required anti-affinity is).
    spread_hard: bool,
}

impl<'w> Spread<'w> {
    fn of(ctx: &Context, w: &'w Workload) -> Spread<'w> {
        let spec = &w.spec.template.spec;
        let labels = w.pod_labels();
        let own_ns = w.metadata.namespace.as_str();
        let ns_labels = ctx.cluster.labels_of_namespace(own_ns);
        let own = |t: &PodAffinityTerm| {
            t.topology_key == HOSTNAME
                && optional_matches(t.label_selector.as_ref(), labels)
                && t.covers_namespace(own_ns, own_ns, &ns_labels)
        };
        let pa = spec
            .affinity
            .as_ref()
            .and_then(|a| a.pod_anti_affinity.as_ref());
        let required: Vec<&PodAffinityTerm> = pa
            .map(|pa| {
                pa.required_during_scheduling_ignored_during_execution
                    .iter()
                    .collect()
            })
            .unwrap_or_default();
        let preferred = pa.into_iter().flat_map(|pa| {
            pa.preferred_during_scheduling_ignored_during_execution
                .iter()
                .map(|t| &t.pod_affinity_term)
        });
        let terms: Vec<&PodAffinityTerm> = required.iter().copied().chain(preferred).collect();
        let own_spreads: Vec<_> = spec
            .topology_spread_constraints
            .iter()
            .filter(|t| {
                t.topology_key == HOSTNAME && optional_matches(t.label_selector.as_ref(), labels)
            })
            .collect();
        Spread {
            required: required.iter().any(|t| own(t)),
            anti_affinity: terms.iter().any(|t| own(t)),
            spread: !own_spreads.is_empty(),
            spread_hard: own_spreads.iter().any(|t| {
                t.when_unsatisfiable.as_deref() == Some("DoNotSchedule")
                    && t.max_skew.unwrap_or(1) <= 1
            }),
            terms,
        }
    }

    fn any(&self) -> bool {
        self.anti_affinity || self.spread
    }
}

/// OpenShift's conventions: 2 replicas want a hard constraint (losing one
/// node must never take both), 3 or more a soft one off the control plane
/// (hard anti-affinity with fewer free nodes than replicas blocks a rollout).
fn openshift_split(w: &Workload, replicas: i64, s: &Spread) -> Option<String> {
    match replicas {
        2 if !s.required && !s.spread_hard => Some(format!(
            "2 replicas spread only by preference; OpenShift's conventions want required (hard) pod anti-affinity on {HOSTNAME} \
             (or a DoNotSchedule topology spread with maxSkew 1), so losing one node never takes both"
        )),
        // On the control plane (3 fixed nodes), one replica per node is the design.
        3.. if s.required && !w.spec.template.spec.on_control_plane() => Some(format!(
            "{replicas} replicas with required (hard) anti-affinity: with fewer free nodes than replicas a rollout cannot place its new pod; \
             OpenShift's conventions want preferred (soft) anti-affinity and maxSurge"
        )),
        _ => None,
    }
}

/// Why the declared terms do not spread the workload's own pods.
fn why_not_spread(w: &Workload, replicas: i64, s: &Spread) -> String {
    let spec = &w.spec.template.spec;
    let labels = w.pod_labels();
    let own_ns = w.metadata.namespace.as_str();
    let on_host: Vec<_> = s
        .terms
        .iter()
        .filter(|t| t.topology_key == HOSTNAME)
        .collect();
    let selected = |sel: Option<&crate::model::selector::LabelSelector>| {
        sel.map_or("nothing".to_owned(), |s| s.to_string())
    };
    if let Some(t) = on_host
        .iter()
        .find(|t| optional_matches(t.label_selector.as_ref(), labels))
    {
        let looked_at = if t.namespaces.is_empty() {
            format!(
                "namespaces selected by {}",
                selected(t.namespace_selector.as_ref())
            )
        } else {
            t.namespaces.join(", ")
        };
        format!("anti-affinity on {HOSTNAME} looks only at pods in {looked_at}, not at its own namespace {own_ns}")
    } else if let Some(t) = on_host.first() {
        format!(
            "anti-affinity on {HOSTNAME} selects {}, not its own pods (labels {})",
            selected(t.label_selector.as_ref()),
            format_labels(labels)
        )
    } else if let Some(t) = spec
        .topology_spread_constraints
        .iter()
        .find(|t| t.topology_key == HOSTNAME)
    {
        format!(
            "topology spread on {HOSTNAME} selects {}, not its own pods (labels {})",
            selected(t.label_selector.as_ref()),
            format_labels(labels)
        )
    } else if !s.terms.is_empty() {
        let keys: Vec<&str> = s.terms.iter().map(|t| t.topology_key.as_str()).collect();
        format!(
            "{replicas} replicas; pod anti-affinity only on {}, want {HOSTNAME}",
            keys.join(", ")
        )
    } else {
        format!("{replicas} replicas and no pod anti-affinity or topology spread constraint on {HOSTNAME}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;

    fn eval(name: &str, pod_spec: &str) -> Vec<String> {
        lines(&run(&AntiAffinity, &deployment(name, 2, pod_spec)))
    }

    #[test]
    fn required_and_preferred_on_hostname_pass() {
        let required = "      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}]}}";
        let preferred = "      affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}}]}}";
        let spread = "      topologySpreadConstraints: [{topologyKey: kubernetes.io/hostname, maxSkew: 1, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]";
        assert!(eval("web", required).is_empty());
        assert!(eval("web", preferred).is_empty());
        assert!(eval("web", spread).is_empty());
    }

    #[test]
    fn nothing_declared() {
        assert_eq!(
            eval("web", ""),
            ["Deployment/web: 2 replicas and no pod anti-affinity or topology spread constraint on kubernetes.io/hostname"]
        );
    }

    #[test]
    fn wrong_topology_key() {
        let zone = "      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}]}}";
        assert_eq!(
            eval("web", zone),
            ["Deployment/web: 2 replicas; pod anti-affinity only on topology.kubernetes.io/zone, want kubernetes.io/hostname"]
        );
    }

    #[test]
    fn selector_not_matching_own_pods() {
        let other = "      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: other}}}]}}";
        assert_eq!(
            eval("web", other),
            ["Deployment/web: anti-affinity on kubernetes.io/hostname selects app=other, not its own pods (labels app=web)"]
        );
        let missing = "      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname}]}}";
        assert_eq!(
            eval("web", missing),
            ["Deployment/web: anti-affinity on kubernetes.io/hostname selects nothing, not its own pods (labels app=web)"]
        );
    }

    #[test]
    fn spread_selector_not_matching() {
        let spread = "      topologySpreadConstraints: [{topologyKey: kubernetes.io/hostname, maxSkew: 1, labelSelector: {matchLabels: {app: x}}}]";
        assert_eq!(
            eval("web", spread),
            ["Deployment/web: topology spread on kubernetes.io/hostname selects app=x, not its own pods (labels app=web)"]
        );
    }

    #[test]
    fn single_replica_is_not_judged() {
        assert!(lines(&run(&AntiAffinity, &deployment("web", 1, ""))).is_empty());
    }

    fn with_term(term: &str) -> String {
        format!(
            "---\nkind: Deployment\nmetadata: {{name: web, namespace: ns}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: c}}]\n      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - {{labelSelector: {{matchLabels: {{app: web}}}}, topologyKey: kubernetes.io/hostname{term}}}\n"
        )
    }

    #[test]
    fn a_term_must_look_at_the_workloads_own_namespace() {
        assert!(
            run(&AntiAffinity, &with_term("")).is_empty(),
            "no namespaces: its own"
        );
        assert!(run(&AntiAffinity, &with_term(", namespaces: [ns, other]")).is_empty());
        assert_eq!(
            lines(&run(&AntiAffinity, &with_term(", namespaces: [other]"))),
            ["Deployment/web: anti-affinity on kubernetes.io/hostname looks only at pods in other, not at its own namespace ns"]
        );
        // namespaceSelector: {} selects every namespace.
        assert!(run(&AntiAffinity, &with_term(", namespaceSelector: {}")).is_empty());
        // The API server labels every namespace with its name.
        assert!(run(
            &AntiAffinity,
            &with_term(", namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ns}}")
        )
        .is_empty());
        let labelled = "---\nkind: Namespace\nmetadata: {name: ns, labels: {team: web}}\n";
        assert!(run(
            &AntiAffinity,
            &(labelled.to_owned() + &with_term(", namespaceSelector: {matchLabels: {team: web}}"))
        )
        .is_empty());
        assert_eq!(
            run(
                &AntiAffinity,
                &with_term(", namespaceSelector: {matchLabels: {team: web}}")
            )
            .len(),
            1,
            "the namespace does not carry the label"
        );
    }

    #[test]
    fn a_host_port_spreads_replicas_without_anti_affinity() {
        let yaml = "---\nkind: Deployment\nmetadata: {name: lb, namespace: ns}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers: [{name: c, ports: [{containerPort: 80, hostPort: 80}]}]\n";
        assert!(run(&AntiAffinity, yaml).is_empty());
        let host_net = "---\nkind: Deployment\nmetadata: {name: lb, namespace: ns}\nspec:\n  replicas: 3\n  template:\n    spec:\n      hostNetwork: true\n      containers: [{name: c, ports: [{containerPort: 9100}]}]\n";
        assert!(run(&AntiAffinity, host_net).is_empty());
        let plain = "---\nkind: Deployment\nmetadata: {name: lb, namespace: ns}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers: [{name: c, ports: [{containerPort: 80}]}]\n";
        assert_eq!(run(&AntiAffinity, plain).len(), 1);
    }

    #[test]
    fn openshift_wants_hard_anti_affinity_for_two_and_soft_for_more() {
        use crate::model::TopologyMode;
        let with = |replicas: i64, kind: &str| {
            format!(
                "---\nkind: Deployment\nmetadata: {{name: web, namespace: ns}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: c}}]\n      affinity:\n        podAntiAffinity:\n          {kind}\n"
            )
        };
        let required = "requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}]";
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}}]";
        let judge =
            |yaml: &str, profile| lines(&run_with(&AntiAffinity, yaml, profile, TopologyMode::Ha));
        assert!(judge(&with(2, required), Profile::Openshift).is_empty());
        assert!(judge(&with(3, preferred), Profile::Openshift).is_empty());
        assert!(judge(&with(2, preferred), Profile::Openshift)[0]
            .contains("2 replicas spread only by preference"));
        assert!(judge(&with(3, required), Profile::Openshift)[0]
            .contains("3 replicas with required (hard) anti-affinity"));
        // The generic profile accepts either.
        assert!(judge(&with(2, preferred), Profile::Generic).is_empty());
        assert!(judge(&with(3, required), Profile::Generic).is_empty());
    }

    #[test]
    fn a_do_not_schedule_spread_on_the_hostname_is_hard() {
        let spread = |when: &str, skew: i64| {
            deployment("web", 2, &format!("      topologySpreadConstraints: [{{topologyKey: kubernetes.io/hostname, maxSkew: {skew}, whenUnsatisfiable: {when}, labelSelector: {{matchLabels: {{app: web}}}}}}]"))
        };
        let judge = |yaml: &str| {
            lines(&run_with(
                &AntiAffinity,
                yaml,
                Profile::Openshift,
                crate::model::TopologyMode::Ha,
            ))
        };
        assert!(judge(&spread("DoNotSchedule", 1)).is_empty());
        // ScheduleAnyway is a preference; maxSkew 2 lets both pods share a node.
        assert_eq!(judge(&spread("ScheduleAnyway", 1)).len(), 1);
        assert_eq!(judge(&spread("DoNotSchedule", 2)).len(), 1);
    }
}
