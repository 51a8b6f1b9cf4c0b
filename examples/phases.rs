#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 4096
        >> 20
}

fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let t = std::time::Instant::now();
    let files = vigil::sources::list_state_files(&[path.clone()]).unwrap();
    let mut bytes = 0;
    for f in &files {
        bytes += std::fs::read(f).unwrap().len();
    }
    eprintln!("read only: {:?} ({} MB)", t.elapsed(), bytes >> 20);
    let t = std::time::Instant::now();
    let loaded = vigil::sources::load_paths(&[path]).unwrap();
    eprintln!(
        "load_paths: {:?} ({} objects) rss {} MB",
        t.elapsed(),
        loaded.objects.len(),
        rss()
    );
    let t = std::time::Instant::now();
    let c = vigil::model::Cluster::from_objects(loaded.objects);
    eprintln!("model: {:?} rss {} MB", t.elapsed(), rss());
    let t = std::time::Instant::now();
    let topo = vigil::model::Topology::resolve(vigil::model::TopologyMode::Auto, &c);
    let ex = vigil::exceptions::Exceptions::default();
    let ev = vigil::outcomes::evaluate(
        &c,
        &ex,
        &vigil::outcomes::Scope {
            profile: vigil::checks::Profile::Generic,
            topology: &topo,
            namespaces: None,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            now: chrono::Utc::now(),
            missing: &[],
        },
    );
    eprintln!(
        "evaluate: {:?} ({} tests) rss {} MB",
        t.elapsed(),
        ev.tests.len(),
        rss()
    );
    let t = std::time::Instant::now();
    let findings: usize = ev.tests.iter().map(|t| t.findings.len()).sum();
    eprintln!(
        "findings {findings}; cluster pods {} events {} slices {} workloads {} rs {} {:?}",
        c.pods.len(),
        c.events.len(),
        c.endpoint_slices.len(),
        c.workloads.len(),
        c.replicasets.len(),
        t.elapsed()
    );
}
