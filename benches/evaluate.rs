//! The evaluation core at three sizes: building the model (indexes
//! included) and evaluating every check against it. Times should grow in
//! proportion to the pods: no check may scan all pods per workload.
//!
//!     cargo bench --bench evaluate

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use vigil::checks::Profile;
use vigil::exceptions::Exceptions;
use vigil::model::{Cluster, Topology, TopologyMode};
use vigil::outcomes::{evaluate, Scope};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    for pods in [5_000usize, 10_000, 20_000] {
        let dir = tempfile::tempdir().unwrap();
        vigil::devtools::generate::generate(
            dir.path(),
            pods,
            1,
            vigil::devtools::generate::Format::Json,
        )
        .unwrap();
        let objects = vigil::sources::load_paths(&[dir.path().to_owned()])
            .unwrap()
            .objects;
        group.throughput(Throughput::Elements(pods as u64));
        group.bench_with_input(BenchmarkId::new("model", pods), &objects, |b, objects| {
            b.iter(|| Cluster::from_objects(objects.clone()))
        });
        let cluster = Cluster::from_objects(objects);
        let topology = Topology::resolve(TopologyMode::Auto, &cluster);
        let exceptions = Exceptions::default();
        let now = vigil::model::time::parse(vigil::devtools::generate::OBSERVED_AT).unwrap();
        group.bench_with_input(BenchmarkId::new("checks", pods), &cluster, |b, cluster| {
            b.iter(|| {
                evaluate(
                    cluster,
                    &exceptions,
                    &Scope {
                        profile: Profile::Openshift,
                        topology: &topology,
                        namespaces: None,
                        today: now.date_naive(),
                        now,
                        missing: &[],
                        not_served: &[],
                        held: None,
                    },
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
