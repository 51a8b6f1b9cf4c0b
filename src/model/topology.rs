//! Cluster topology: highly available or single node.

use super::Cluster;

/// How the topology is decided (`--topology`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyMode {
    /// Read `Infrastructure.status.infrastructureTopology`, else count schedulable nodes.
    Auto,
    /// Treat the cluster as highly available.
    Ha,
    /// Treat the cluster as single-node: multi-node rules are skipped.
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
                if let Some(t) = Self::from_infrastructure(cluster) {
                    return t;
                }
                // Without OpenShift's word, only a cluster of one node is
                // single-node: tainted control-plane nodes beside one worker
                // are still an HA cluster whose operands must spread.
                let n = cluster.nodes.len();
                if n == 0 {
                    return Topology {
                        single_node: false,
                        source: "no Node or Infrastructure in the input; assumed highly available"
                            .into(),
                    };
                }
                Topology {
                    single_node: n == 1,
                    source: if n == 1 {
                        "the cluster has 1 node".into()
                    } else {
                        format!("the cluster has {n} nodes")
                    },
                }
            }
        }
    }

    /// OpenShift's `Infrastructure/cluster`: `infrastructureTopology` says
    /// where workloads (operands) run; `controlPlaneTopology` where the
    /// control plane runs. `SingleReplica` is single-node; `HighlyAvailable`,
    /// `DualReplica`, `HighlyAvailableArbiter` and `External` are not.
    fn from_infrastructure(cluster: &Cluster) -> Option<Topology> {
        let status = &cluster.infrastructure.as_ref()?.status;
        let infra = status.infrastructure_topology.as_deref();
        let control = status.control_plane_topology.as_deref();
        let decided_by = infra.or(control)?;
        let mut source = String::from("Infrastructure/cluster says");
        if let Some(i) = infra {
            source.push_str(&format!(" infrastructureTopology={i}"));
        }
        if let Some(c) = control {
            source.push_str(&format!(
                "{} controlPlaneTopology={c}",
                if infra.is_some() { "," } else { "" }
            ));
        }
        Some(Topology {
            single_node: decided_by == "SingleReplica",
            source,
        })
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
    fn tainted_control_plane_nodes_beside_one_worker_are_an_ha_cluster() {
        let c = cluster(
            r#"{"items":[
              {"kind":"Node","metadata":{"name":"cp1"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}},
              {"kind":"Node","metadata":{"name":"cp2"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}},
              {"kind":"Node","metadata":{"name":"cp3"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}},
              {"kind":"Node","metadata":{"name":"w1"}}]}"#,
        );
        let t = Topology::resolve(TopologyMode::Auto, &c);
        assert!(!t.single_node);
        assert_eq!(t.source, "the cluster has 4 nodes");
        let one =
            cluster(r#"{"items":[{"kind":"Node","metadata":{"name":"kind-control-plane"}}]}"#);
        let t = Topology::resolve(TopologyMode::Auto, &one);
        assert!(t.single_node);
        assert_eq!(t.source, "the cluster has 1 node");
    }

    #[test]
    fn every_openshift_topology() {
        let infra = |infra: &str, control: &str| {
            cluster(&format!(
                r#"{{"items":[{{"kind":"Infrastructure","metadata":{{"name":"cluster"}},
                    "status":{{"infrastructureTopology":"{infra}","controlPlaneTopology":"{control}"}}}},
                  {{"kind":"Node","metadata":{{"name":"a"}}}}]}}"#
            ))
        };
        for (i, c, single) in [
            ("HighlyAvailable", "HighlyAvailable", false),
            ("SingleReplica", "SingleReplica", true),
            ("HighlyAvailable", "External", false),
            ("SingleReplica", "External", true),
            ("HighlyAvailable", "DualReplica", false),
            ("HighlyAvailable", "HighlyAvailableArbiter", false),
        ] {
            let t = Topology::resolve(TopologyMode::Auto, &infra(i, c));
            assert_eq!(t.single_node, single, "{i}/{c}");
            assert_eq!(
                t.source,
                format!("Infrastructure/cluster says infrastructureTopology={i}, controlPlaneTopology={c}")
            );
        }
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
