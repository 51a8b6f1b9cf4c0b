//! Cluster topology: highly available or single node.

use super::Cluster;

/// `--topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyMode {
    /// Read `Infrastructure.status.infrastructureTopology`, else count schedulable nodes.
    Auto,
    /// Treat the cluster as highly available.
    Ha,
    /// Treat the cluster as single-node: multi-node rules pass.
    Single,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub single_node: bool,
    /// How it was decided, for the summary.
    pub source: String,
}

impl serde::Serialize for Topology {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Topology", 3)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("single_node", &self.single_node)?;
        st.serialize_field("source", &self.source)?;
        st.end()
    }
}

impl Topology {
    pub fn name(&self) -> &'static str {
        if self.single_node {
            "SingleReplica"
        } else {
            "HighlyAvailable"
        }
    }

    pub fn resolve(mode: TopologyMode, cluster: &Cluster) -> Topology {
        match mode {
            TopologyMode::Ha => Topology {
                single_node: false,
                source: "--topology ha".into(),
            },
            TopologyMode::Single => Topology {
                single_node: true,
                source: "--topology single".into(),
            },
            TopologyMode::Auto => {
                let infra = cluster
                    .infrastructure
                    .as_ref()
                    .and_then(|i| i.status.infrastructure_topology.as_deref());
                if let Some(t) = infra {
                    return Topology {
                        single_node: t == "SingleReplica",
                        source: format!("Infrastructure/cluster says {t}"),
                    };
                }
                if cluster.nodes.is_empty() {
                    return Topology {
                        single_node: false,
                        source: "no Node or Infrastructure in the input; assumed highly available"
                            .into(),
                    };
                }
                let n = cluster.schedulable_nodes();
                Topology {
                    single_node: n <= 1,
                    source: format!(
                        "{n} schedulable node{} of {}",
                        if n == 1 { "" } else { "s" },
                        cluster.nodes.len()
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::decode::Doc;

    fn cluster(json: &str) -> Cluster {
        Cluster::from_objects(serde_json::from_str::<Doc>(json).unwrap().objects)
    }

    #[test]
    fn infrastructure_wins() {
        let c = cluster(
            r#"{"items":[{"kind":"Infrastructure","metadata":{"name":"cluster"},
                "status":{"infrastructureTopology":"SingleReplica"}},
              {"kind":"Node","metadata":{"name":"a"}},{"kind":"Node","metadata":{"name":"b"}}]}"#,
        );
        assert!(Topology::resolve(TopologyMode::Auto, &c).single_node);
        assert!(!Topology::resolve(TopologyMode::Ha, &c).single_node);
    }

    #[test]
    fn tainted_and_cordoned_nodes_do_not_count() {
        let c = cluster(
            r#"{"items":[
              {"kind":"Node","metadata":{"name":"cp"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}},
              {"kind":"Node","metadata":{"name":"w1"}},
              {"kind":"Node","metadata":{"name":"w2"},"spec":{"unschedulable":true}}]}"#,
        );
        let t = Topology::resolve(TopologyMode::Auto, &c);
        assert!(t.single_node);
        assert_eq!(t.source, "1 schedulable node of 3");
    }

    #[test]
    fn two_schedulable_nodes_are_ha() {
        let c = cluster(
            r#"{"items":[{"kind":"Node","metadata":{"name":"a"}},{"kind":"Node","metadata":{"name":"b"}}]}"#,
        );
        assert!(!Topology::resolve(TopologyMode::Auto, &c).single_node);
    }

    #[test]
    fn no_information_means_ha() {
        let c = cluster(r#"{"items":[]}"#);
        assert!(!Topology::resolve(TopologyMode::Auto, &c).single_node);
    }
}
