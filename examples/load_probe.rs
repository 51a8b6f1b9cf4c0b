fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let t = std::time::Instant::now();
    match vigil::sources::load_paths(&paths) {
        Ok(l) => {
            let c = vigil::model::Cluster::from_objects(l.objects);
            println!("files={} dup={} ns={} nodes={} pods={} workloads={} pdbs={} events={} svc={} eps={} slices={} infra={:?} in {:?}",
                l.files.len(), l.duplicates, c.namespaces.len(), c.nodes.len(), c.pods.len(), c.workloads.len(), c.pdbs.len(), c.events.len(), c.services.len(), c.endpoints.len(), c.endpoint_slices.len(), c.infrastructure.map(|i| i.status.infrastructure_topology), t.elapsed());
        }
        Err(e) => println!("error: {e}"),
    }
}
