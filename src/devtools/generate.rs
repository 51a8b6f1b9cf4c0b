//! A seeded generator of realistic cluster states, for the benchmarks.
//!
//! `vigil dev generate --pods N --seed S -o DIR` writes `DIR/cluster.json`
//! (nodes, namespaces) and one `DIR/ns/<namespace>.json` List per namespace
//! (or, with `--yaml`, `.yaml` files holding one document per object)
//! with its workloads, ReplicaSets, pods (statuses included, a few percent
//! unhealthy), PDBs, HPAs, Services, EndpointSlices and Events, in the
//! shapes `kubectl get -o json` prints. The same seed gives the same bytes.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// The moment the generated cluster is observed at.
pub const OBSERVED_AT: &str = "2026-11-21T12:00:00Z";

/// Pods per node, as on a busy production cluster.
const PODS_PER_NODE: usize = 30;
/// Pods per application namespace.
const PODS_PER_NAMESPACE: usize = 100;

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub nodes: usize,
    pub namespaces: usize,
    pub workloads: usize,
    pub pods: usize,
    pub objects: usize,
}

struct Gen {
    rng: ChaCha8Rng,
    nodes: Vec<String>,
    counts: Counts,
}

fn ts(minutes_before: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(OBSERVED_AT).unwrap();
    (base - chrono::Duration::minutes(minutes_before))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Gen {
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.rng.random_range(0..16u32), 16).unwrap())
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| A[self.rng.random_range(0..A.len())] as char)
            .collect()
    }

    fn uid(&mut self) -> String {
        format!(
            "{}-{}-4{}-8{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    fn node(&mut self, i: usize, control_plane: bool) -> Value {
        let name = if control_plane {
            format!("master-{i}.cluster.example")
        } else {
            format!("worker-{i:05}.cluster.example")
        };
        let not_ready = !control_plane && self.rng.random_bool(0.005);
        let images: Vec<Value> = (0..20)
            .map(|k| {
                json!({"names": [format!("registry.example/team/image-{k}@sha256:{}", self.hex(64))],
                       "sizeBytes": self.rng.random_range(20_000_000..900_000_000u64)})
            })
            .collect();
        let mut taints = vec![];
        if control_plane {
            taints.push(json!({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}));
        }
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name, "uid": self.uid(), "creationTimestamp": ts(60 * 24 * 30),
                "labels": {
                    "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                    "node-role.kubernetes.io/worker": "", "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
                    "node.kubernetes.io/instance-type": "m6i.4xlarge"
                },
                "annotations": {"machine.openshift.io/machine": format!("openshift-machine-api/{name}")}
            },
            "spec": {"providerID": format!("aws:///zone-{}/i-{}", i % 3, self.hex(17)), "taints": taints},
            "status": {
                "addresses": [{"type": "InternalIP", "address": format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256)},
                              {"type": "Hostname", "address": name}],
                "capacity": {"cpu": "16", "memory": "65497144Ki", "pods": "250", "ephemeral-storage": "125293548Ki"},
                "allocatable": {"cpu": "15500m", "memory": "64346168Ki", "pods": "250", "ephemeral-storage": "114396791822"},
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(60 * 24 * 30)},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(60 * 24 * 30)},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(60 * 24 * 30)},
                    if not_ready {
                        json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": ts(45), "lastTransitionTime": ts(44)})
                    } else {
                        json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(60 * 24 * 30)})
                    }
                ],
                "nodeInfo": {"kubeletVersion": "v1.34.4", "containerRuntimeVersion": "cri-o://1.34.1", "osImage": "Red Hat Enterprise Linux CoreOS", "kernelVersion": "5.14.0-570.el9.x86_64", "architecture": "amd64", "operatingSystem": "linux"},
                "images": images
            }
        })
    }

    fn container(&mut self, name: &str, probes: bool, requests: bool, limits: bool) -> Value {
        let mut c = json!({
            "name": name,
            "image": format!("registry.example/{name}@sha256:{}", self.hex(64)),
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "FallbackToLogsOnError",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}
        });
        if probes {
            c["readinessProbe"] = json!({"httpGet": {"path": "/readyz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3});
            c["livenessProbe"] = json!({"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3});
        }
        let mut resources = json!({});
        if requests {
            resources["requests"] = json!({"cpu": format!("{}m", self.rng.random_range(1..40) * 10), "memory": format!("{}Mi", self.rng.random_range(2..64) * 16)});
        }
        if limits {
            resources["limits"] = json!({"cpu": "2", "memory": "2Gi"});
        }
        c["resources"] = resources;
        c
    }

    #[allow(clippy::too_many_arguments)]
    fn pod_spec(
        &mut self,
        app: &str,
        sidecar: bool,
        probes: bool,
        requests: bool,
        limits: bool,
        priority: Option<&str>,
        anti: bool,
    ) -> Value {
        let mut containers = vec![self.container(app, probes, requests, limits)];
        if sidecar {
            containers.push(self.container("proxy", probes, requests, false));
        }
        let mut spec = json!({
            "containers": containers,
            "volumes": [{"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}},
                        {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}], "defaultMode": 420}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": app, "schedulerName": "default-scheduler",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
        });
        if let Some(p) = priority {
            spec["priorityClassName"] = json!(p);
        }
        if anti {
            spec["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": app}}}}]}});
        }
        spec
    }

    /// A pod of `owner`, healthy or (a few percent) not.
    #[allow(clippy::too_many_arguments)]
    fn pod(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
        owner: (&str, &str, &str),
        template_spec: &Value,
        node: Option<String>,
    ) -> (Value, bool, &'static str) {
        self.counts.pods += 1;
        let trouble = if self.rng.random_bool(0.03) {
            ["crashloop", "imagepull", "pending", "notready", "oom"][self.rng.random_range(0..5)]
        } else {
            ""
        };
        let node =
            node.unwrap_or_else(|| self.nodes[self.rng.random_range(3..self.nodes.len())].clone());
        let started = self.rng.random_range(60..60 * 24 * 20);
        let containers = template_spec["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut statuses = Vec::new();
        let mut ready = true;
        let mut phase = "Running";
        for (k, c) in containers.iter().enumerate() {
            let st = self.container_status(name, c, started, if k == 0 { trouble } else { "" });
            if k == 0 && matches!(trouble, "crashloop" | "imagepull" | "notready") {
                ready = false;
            }
            if k == 0 && trouble == "imagepull" {
                phase = "Pending";
            }
            statuses.push(st);
        }
        let scheduled = trouble != "pending";
        let created = if scheduled {
            started + 1
        } else {
            self.rng.random_range(20..600)
        };
        let mut conditions = vec![
            json!({"type": "PodScheduled", "status": if scheduled {"True"} else {"False"}, "lastTransitionTime": ts(created),
                   "reason": if scheduled {Value::Null} else {json!("Unschedulable")},
                   "message": if scheduled {Value::Null} else {json!("0/5003 nodes are available: 3 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 5000 Insufficient memory.")}}),
        ];
        if scheduled {
            let since = if ready {
                started
            } else {
                self.rng.random_range(6..600)
            };
            conditions.push(
                json!({"type": "Initialized", "status": "True", "lastTransitionTime": ts(started)}),
            );
            conditions.push(json!({"type": "ContainersReady", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(since)}));
            conditions.push(json!({"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(since),
                                   "reason": if ready {Value::Null} else {json!("ContainersNotReady")}}));
        }
        let mut spec = template_spec.clone();
        if scheduled {
            spec["nodeName"] = json!(node);
        } else {
            phase = "Pending";
            statuses.clear();
        }
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "namespace": ns, "uid": self.uid(), "creationTimestamp": ts(created),
                "labels": labels, "resourceVersion": format!("{}", self.rng.random_range(1_000_000..99_000_000u64)),
                "annotations": {"openshift.io/scc": "restricted-v2", "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"},
                "ownerReferences": [{"apiVersion": owner.0, "kind": owner.1, "name": owner.2, "uid": self.uid(), "controller": true, "blockOwnerDeletion": true}]
            },
            "spec": spec,
            "status": {
                "phase": phase, "conditions": conditions, "hostIP": "10.0.0.1",
                "podIP": format!("10.128.{}.{}", self.rng.random_range(0..256), self.rng.random_range(1..255)),
                "startTime": ts(started), "qosClass": "Burstable", "containerStatuses": statuses
            }
        });
        (pod, ready && scheduled, trouble)
    }

    /// A container's status, with the pod's trouble when it is the first.
    fn container_status(&mut self, pod: &str, c: &Value, started: i64, trouble: &str) -> Value {
        let mut st = json!({
            "name": c["name"], "image": c["image"], "imageID": format!("registry.example/x@sha256:{}", self.hex(64)),
            "containerID": format!("cri-o://{}", self.hex(64)), "ready": true, "started": true, "restartCount": 0,
            "state": {"running": {"startedAt": ts(started)}}, "lastState": {}
        });
        match trouble {
            "crashloop" => {
                let restarts = self.rng.random_range(6..300);
                st["ready"] = json!(false);
                st["restartCount"] = json!(restarts);
                st["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={} pod={pod}", c["name"].as_str().unwrap_or(""))}});
                st["lastState"] = json!({"terminated": {"reason": "Error", "exitCode": 1, "startedAt": ts(4), "finishedAt": ts(3)}});
            }
            "imagepull" => {
                st["ready"] = json!(false);
                st["started"] = json!(false);
                st["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image {}", c["image"])}});
            }
            "oom" => {
                st["restartCount"] = json!(self.rng.random_range(1..4));
                st["lastState"] = json!({"terminated": {"reason": "OOMKilled", "exitCode": 137, "startedAt": ts(90), "finishedAt": ts(30)}});
            }
            "notready" => {
                st["ready"] = json!(false);
            }
            _ => {}
        }
        st
    }

    fn events_for(&mut self, ns: &str, pod: &str, trouble: &str, out: &mut Vec<Value>) {
        let mut push = |g: &mut Gen, reason: &str, type_: &str, count: i64, message: String| {
            out.push(json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("{pod}.{}", g.hex(16)), "namespace": ns, "uid": g.uid(), "creationTimestamp": ts(120)},
                "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns},
                "reason": reason, "message": message, "type": type_, "count": count,
                "firstTimestamp": ts(120), "lastTimestamp": ts(2),
                "source": {"component": "kubelet"}, "reportingComponent": "kubelet", "reportingInstance": ""
            }));
        };
        match trouble {
            "crashloop" => {
                let n = self.rng.random_range(11..400);
                push(
                    self,
                    "BackOff",
                    "Warning",
                    n,
                    format!("Back-off restarting failed container in pod {pod}"),
                )
            }
            "imagepull" => {
                let n = self.rng.random_range(5..60);
                push(
                    self,
                    "Failed",
                    "Warning",
                    n,
                    "Error: ImagePullBackOff".into(),
                )
            }
            "pending" => {
                let n = self.rng.random_range(5..40);
                push(
                    self,
                    "FailedScheduling",
                    "Warning",
                    n,
                    "0/5003 nodes are available: 5000 Insufficient memory.".into(),
                )
            }
            _ if self.rng.random_bool(0.3) => push(
                self,
                "Pulled",
                "Normal",
                1,
                "Container image already present on machine".into(),
            ),
            _ => {}
        }
    }

    /// An application's pods, ready or in trouble (with their events), and
    /// the endpoints they give its Service.
    #[allow(clippy::too_many_arguments)]
    fn app_pods(
        &mut self,
        ns: &str,
        app: &str,
        replicas: usize,
        statefulset: bool,
        hash: &str,
        rs_name: &str,
        labels: &Value,
        template: &Value,
        objs: &mut Vec<Value>,
        events: &mut Vec<Value>,
    ) -> (usize, Vec<Value>) {
        let mut ready_count = 0;
        let mut endpoints = Vec::new();
        for i in 0..replicas {
            let (name, mut pod_labels, owner) = if statefulset {
                (
                    format!("{app}-{i}"),
                    labels.clone(),
                    ("apps/v1", "StatefulSet", app),
                )
            } else {
                let suffix = self.alnum(5);
                (
                    format!("{rs_name}-{suffix}"),
                    labels.clone(),
                    ("apps/v1", "ReplicaSet", rs_name),
                )
            };
            if statefulset {
                pod_labels["controller-revision-hash"] = json!(hash);
                pod_labels["statefulset.kubernetes.io/pod-name"] = json!(name);
            } else {
                pod_labels["pod-template-hash"] = json!(hash);
            }
            let (pod, ready, trouble) = self.pod(
                ns,
                &name,
                pod_labels,
                (owner.0, owner.1, owner.2),
                &template["spec"],
                None,
            );
            if ready {
                ready_count += 1;
            }
            endpoints.push(json!({"addresses": [pod["status"]["podIP"]], "conditions": {"ready": ready, "serving": ready, "terminating": false},
                                  "nodeName": pod["spec"]["nodeName"], "targetRef": {"kind": "Pod", "name": name, "namespace": ns, "uid": pod["metadata"]["uid"]}}));
            self.events_for(ns, &name, trouble, events);
            objs.push(pod);
        }
        (ready_count, endpoints)
    }

    /// An application's PDB (60% of replicated ones), HPA (20% of
    /// Deployments) and Service with its EndpointSlice (80%).
    #[allow(clippy::too_many_arguments)]
    fn app_extras(
        &mut self,
        ns: &str,
        app: &str,
        replicas: usize,
        ready_count: usize,
        statefulset: bool,
        endpoints: Vec<Value>,
        objs: &mut Vec<Value>,
    ) {
        if replicas >= 2 && self.rng.random_bool(0.6) {
            let blocking = self.rng.random_bool(0.05);
            let budget = if blocking {
                json!({"minAvailable": replicas})
            } else {
                json!({"maxUnavailable": 1})
            };
            let mut pdb_spec = json!({"selector": {"matchLabels": {"app": app}}});
            for (k2, v) in budget.as_object().unwrap() {
                pdb_spec[k2] = v.clone();
            }
            if self.rng.random_bool(0.5) {
                pdb_spec["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
            }
            let allowed = if blocking { 0 } else { 1.min(ready_count) };
            objs.push(json!({
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": app, "namespace": ns, "uid": self.uid(), "generation": 1, "creationTimestamp": ts(60 * 24 * 10)},
                "spec": pdb_spec,
                "status": {"observedGeneration": 1, "expectedPods": replicas, "currentHealthy": ready_count,
                           "desiredHealthy": if blocking { replicas } else { replicas.saturating_sub(1) }, "disruptionsAllowed": allowed}
            }));
        }
        if !statefulset && self.rng.random_bool(0.2) {
            objs.push(json!({
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": app, "namespace": ns, "uid": self.uid(), "creationTimestamp": ts(60 * 24 * 10)},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                         "minReplicas": replicas.max(1), "maxReplicas": 10,
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
                "status": {"currentReplicas": replicas, "desiredReplicas": replicas}
            }));
        }
        if self.rng.random_bool(0.8) {
            let ip = format!(
                "172.30.{}.{}",
                self.rng.random_range(0..256),
                self.rng.random_range(1..255)
            );
            objs.push(json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": app, "namespace": ns, "uid": self.uid(), "creationTimestamp": ts(60 * 24 * 10), "labels": {"app": app}},
                "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                         "type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "sessionAffinity": "None"}
            }));
            objs.push(json!({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": {"name": format!("{app}-{}", self.alnum(5)), "namespace": ns, "uid": self.uid(), "creationTimestamp": ts(60 * 24 * 10),
                             "labels": {"kubernetes.io/service-name": app, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
                "endpoints": endpoints,
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
            }));
        }
    }

    /// One application namespace holding about `pods` pods.
    fn namespace(&mut self, ns: &str, pods: usize) -> Vec<Value> {
        let mut objs = Vec::new();
        let mut events = Vec::new();
        let mut left = pods;
        let mut k = 0;
        while left > 0 {
            k += 1;
            let app = format!("app-{k:03}");
            let statefulset = self.rng.random_bool(0.25);
            let replicas =
                ([1, 2, 2, 3, 3, 3, 4, 5][self.rng.random_range(0..8)] as usize).min(left);
            left -= replicas;
            let labels = json!({"app": app, "app.kubernetes.io/part-of": ns});
            let priority = self.rng.random_bool(0.5).then_some("team-critical");
            let (sidecar, probes, requests, limits) = (
                self.rng.random_bool(0.3),
                self.rng.random_bool(0.9),
                self.rng.random_bool(0.85),
                self.rng.random_bool(0.1),
            );
            let anti = replicas >= 2 && self.rng.random_bool(0.6);
            let template_spec =
                self.pod_spec(&app, sidecar, probes, requests, limits, priority, anti);
            self.counts.workloads += 1;
            let template = json!({"metadata": {"labels": labels}, "spec": template_spec});
            let (kind, hash) = if statefulset {
                ("StatefulSet", format!("{app}-{}", self.hex(10)))
            } else {
                ("Deployment", self.hex(10))
            };
            let rs_name = format!("{app}-{hash}");
            if !statefulset {
                // A ReplicaSet's template carries the hash its selector asks for.
                let mut rs_template = template.clone();
                rs_template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
                objs.push(json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "namespace": ns, "uid": self.uid(), "creationTimestamp": ts(60 * 24 * 10),
                                 "labels": {"app": app, "pod-template-hash": hash},
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app, "uid": self.uid(), "controller": true}]},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app, "pod-template-hash": hash}}, "template": rs_template},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1}
                }));
            }
            let (ready_count, endpoints) = self.app_pods(
                ns,
                &app,
                replicas,
                statefulset,
                &hash,
                &rs_name,
                &labels,
                &template,
                &mut objs,
                &mut events,
            );
            let generation = self.rng.random_range(1..8);
            let status = if statefulset {
                json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready_count, "currentReplicas": replicas,
                       "updatedReplicas": replicas, "currentRevision": hash, "updateRevision": hash, "availableReplicas": ready_count})
            } else {
                json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": ready_count,
                       "availableReplicas": ready_count,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastTransitionTime": ts(600)},
                                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastTransitionTime": ts(60 * 24)}]})
            };
            let mut spec = json!({"replicas": replicas, "selector": {"matchLabels": {"app": app}}, "template": template, "revisionHistoryLimit": 10});
            if statefulset {
                spec["serviceName"] = json!(app);
                spec["updateStrategy"] =
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}});
                spec["podManagementPolicy"] = json!("OrderedReady");
            } else {
                spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
                spec["progressDeadlineSeconds"] = json!(600);
            }
            objs.push(json!({
                "apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": app, "namespace": ns, "uid": self.uid(), "generation": generation, "creationTimestamp": ts(60 * 24 * 10),
                             "labels": labels, "annotations": {"deployment.kubernetes.io/revision": "3"}},
                "spec": spec, "status": status
            }));
            self.app_extras(
                ns,
                &app,
                replicas,
                ready_count,
                statefulset,
                endpoints,
                &mut objs,
            );
        }
        objs.extend(events);
        objs
    }
}

/// How the state is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One `List` per file, as `kubectl get -o json` prints.
    Json,
    /// One document per object, as manifests are kept: what every peer tool reads.
    Yaml,
    /// An OpenShift must-gather tree: `namespaces/<ns>/<group>/<plural>.yaml`
    /// (YAML Lists, sorted keys, as `oc adm inspect` writes them), one file per
    /// node under `cluster-scoped-resources/core/nodes/`.
    MustGather,
}

fn write_yaml(path: &Path, doc: &Value) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    w.write_all(b"---\n")?;
    let text = serde_saphyr::to_string(doc).map_err(std::io::Error::other)?;
    w.write_all(text.as_bytes())?;
    w.flush()
}

/// A namespace's objects (or, for `cluster`, the nodes and namespaces) as a
/// must-gather holds them.
fn write_must_gather(root: &Path, stem: &str, items: &[Value]) -> std::io::Result<()> {
    // Per (group directory, file) of the namespace `stem`.
    let mut files: BTreeMap<(&str, &str), Vec<&Value>> = BTreeMap::new();
    for item in items {
        let kind = item["kind"].as_str().unwrap_or("");
        let name = item["metadata"]["name"].as_str().unwrap_or("").to_owned();
        match kind {
            "Node" => write_yaml(
                &root.join(format!("cluster-scoped-resources/core/nodes/{name}.yaml")),
                item,
            )?,
            "Namespace" => write_yaml(&root.join(format!("namespaces/{name}/{name}.yaml")), item)?,
            _ => {
                let Some((group, file)) = crate::sources::must_gather_file(kind) else {
                    panic!("the generator made a {kind}, which has no must-gather file");
                };
                files.entry((group, file)).or_default().push(item);
            }
        }
    }
    for ((group, file), items) in files {
        let list = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": "1"}});
        write_yaml(
            &root.join(format!("namespaces/{stem}/{group}/{file}")),
            &list,
        )?;
    }
    Ok(())
}

/// Which part of the cluster a list holds: the forms other than the
/// must-gather keep namespaces under `ns/`, the cluster-scoped list beside it.
#[derive(Clone, Copy)]
enum Part {
    Namespace,
    Cluster,
}

fn write_list(
    root: &Path,
    part: Part,
    stem: &str,
    items: &[Value],
    format: Format,
) -> std::io::Result<()> {
    let dir = match part {
        Part::Namespace => root.join("ns"),
        Part::Cluster => root.to_owned(),
    };
    match format {
        // The tree has its own layout below the root.
        Format::MustGather => write_must_gather(root, stem, items),
        Format::Json => {
            let mut w = BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.json")))?);
            let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
            serde_json::to_writer(&mut w, &list)?;
            w.flush()
        }
        Format::Yaml => {
            let mut w = BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.yaml")))?);
            for item in items {
                w.write_all(b"---\n")?;
                let text = serde_saphyr::to_string(item).map_err(std::io::Error::other)?;
                w.write_all(text.as_bytes())?;
            }
            w.flush()
        }
    }
}

/// Writes a cluster of about `pods` pods into `dir`.
pub fn generate(dir: &Path, pods: usize, seed: u64, format: Format) -> std::io::Result<Counts> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        nodes: Vec::new(),
        counts: Counts::default(),
    };
    if format != Format::MustGather {
        std::fs::create_dir_all(dir.join("ns"))?;
    }
    let workers = (pods / PODS_PER_NODE).max(3);
    let mut cluster = Vec::new();
    for i in 0..3 {
        let n = g.node(i, true);
        g.nodes
            .push(n["metadata"]["name"].as_str().unwrap().to_owned());
        cluster.push(n);
    }
    for i in 0..workers {
        let n = g.node(i, false);
        g.nodes
            .push(n["metadata"]["name"].as_str().unwrap().to_owned());
        cluster.push(n);
    }
    g.counts.nodes = g.nodes.len();

    // Node agents: three DaemonSets with a pod on every node.
    let system = "cluster-agents";
    let mut sys_objs = Vec::new();
    for agent in ["node-exporter", "log-collector", "dns-node-cache"] {
        let labels = json!({"app": agent});
        let spec = g.pod_spec(
            agent,
            false,
            true,
            true,
            false,
            Some("system-node-critical"),
            false,
        );
        let template = json!({"metadata": {"labels": labels}, "spec": spec});
        let n = g.nodes.len();
        let mut unavailable = 0;
        let node_names = g.nodes.clone();
        // 5,003 pods drawing 5 of 27 characters collide about one time in
        // two: a pod name given twice is one pod fewer (and a note).
        let mut taken = std::collections::HashSet::new();
        for node in node_names {
            let name = loop {
                let name = format!("{agent}-{}", g.alnum(5));
                if taken.insert(name.clone()) {
                    break name;
                }
            };
            let (pod, ready, _) = g.pod(
                system,
                &name,
                labels.clone(),
                ("apps/v1", "DaemonSet", agent),
                &template["spec"],
                Some(node),
            );
            if !ready {
                unavailable += 1;
            }
            sys_objs.push(pod);
        }
        g.counts.workloads += 1;
        sys_objs.push(json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": agent, "namespace": system, "uid": g.uid(), "generation": 2, "creationTimestamp": ts(60 * 24 * 30)},
            "spec": {"selector": {"matchLabels": {"app": agent}}, "template": template,
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}}},
            "status": {"observedGeneration": 2, "desiredNumberScheduled": n, "currentNumberScheduled": n, "updatedNumberScheduled": n,
                       "numberReady": n - unavailable, "numberAvailable": n - unavailable, "numberUnavailable": unavailable}
        }));
    }
    let mut namespaces = vec![system.to_owned()];
    g.counts.objects += sys_objs.len();
    write_list(dir, Part::Namespace, system, &sys_objs, format)?;
    drop(sys_objs);

    let app_pods = pods.saturating_sub(g.counts.pods);
    let count = app_pods.div_ceil(PODS_PER_NAMESPACE).max(1);
    for i in 0..count {
        let ns = format!("team-{i:04}");
        let n = PODS_PER_NAMESPACE
            .min(app_pods - (i * PODS_PER_NAMESPACE).min(app_pods))
            .max(1);
        let objs = g.namespace(&ns, n);
        g.counts.objects += objs.len();
        write_list(dir, Part::Namespace, &ns, &objs, format)?;
        namespaces.push(ns);
    }
    for ns in &namespaces {
        cluster.push(json!({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": ns, "uid": g.uid(), "labels": {"kubernetes.io/metadata.name": ns}},
                            "status": {"phase": "Active"}}));
    }
    g.counts.namespaces = namespaces.len();
    g.counts.objects += cluster.len();
    write_list(dir, Part::Cluster, "cluster", &cluster, format)?;
    Ok(g.counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The must-gather tree holds the same objects as the JSON Lists, and
    /// vigil reads it as a must-gather (only the files it knows).
    #[test]
    fn the_must_gather_form_holds_the_same_cluster() {
        let json_dir = tempfile::tempdir().unwrap();
        let mg_dir = tempfile::tempdir().unwrap();
        generate(json_dir.path(), 600, 3, Format::Json).unwrap();
        let counts = generate(mg_dir.path(), 600, 3, Format::MustGather).unwrap();
        assert!(mg_dir
            .path()
            .join("namespaces/team-0000/core/pods.yaml")
            .is_file());
        assert!(mg_dir
            .path()
            .join("cluster-scoped-resources/core/nodes")
            .is_dir());
        let objects = |dir: &Path| {
            let loaded = crate::sources::load_paths(&[dir.to_owned()]).unwrap();
            let mut v: Vec<String> = loaded
                .objects
                .iter()
                .map(|o| format!("{} {}", o.kind(), serde_json::to_string(o).unwrap()))
                .collect();
            v.sort();
            v
        };
        let (from_json, from_mg) = (objects(json_dir.path()), objects(mg_dir.path()));
        assert_eq!(from_mg.len(), counts.objects);
        assert!(from_json == from_mg, "the two forms differ");
    }

    #[test]
    fn deterministic_and_readable() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ca = generate(a.path(), 600, 7, Format::Json).unwrap();
        generate(b.path(), 600, 7, Format::Json).unwrap();
        for f in [
            "cluster.json",
            "ns/team-0000.json",
            "ns/cluster-agents.json",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap(),
                "{f}"
            );
        }
        assert_eq!(ca.nodes, 23);
        assert!(ca.pods >= 600 && ca.pods < 700, "{ca:?}");
        let loaded = crate::sources::load_paths(&[a.path().to_owned()]).unwrap();
        let c = crate::model::Cluster::from_objects(loaded.objects);
        assert_eq!(c.pods.len(), ca.pods);
        assert_eq!(c.nodes.len(), 23);
        // Every pod has an owner the model resolves.
        assert!(c.pod_owner.iter().all(Option::is_some));
        // A few percent are unhealthy.
        let crashing = c
            .pods
            .iter()
            .filter(|p| {
                p.status
                    .container_statuses
                    .iter()
                    .any(|s| s.state.waiting.is_some())
            })
            .count();
        assert!(crashing > 0 && crashing < c.pods.len() / 10, "{crashing}");

        // The YAML form holds the same cluster.
        let y = tempfile::tempdir().unwrap();
        generate(y.path(), 600, 7, Format::Yaml).unwrap();
        let from_yaml = crate::model::Cluster::from_objects(
            crate::sources::load_paths(&[y.path().to_owned()])
                .unwrap()
                .objects,
        );
        assert_eq!(from_yaml.pods.len(), c.pods.len());
        assert_eq!(from_yaml.events.len(), c.events.len());
    }
}
