//! The floor under `consultacliente` by document: the store's read alone, without HTTP, on
//! as many threads as asked, each on its own thread-local SQLite connection as the server's
//! request threads are. What an answer can never cost less than (BENCHMARKS.md).
//!
//! ```sh
//! cargo bench --bench store_read -- sqlite://target/bench/ura-1000000.db \
//!     target/bench/sample-sqlite-1000000.csv [SECONDS] [THREADS] [COMMITS_PER_S]
//! ```
//!
//! The sample is the `document,contract` file `ura gen --sample` writes. With COMMITS_PER_S,
//! a writer commits that many audit batches of 500 entries a second meanwhile, as a loaded
//! server's audit trail does (it writes them into the database: use a copy). Prints the reads
//! a second, the CPU time each read took on its thread, and the p50 and p99 of one read.

use std::time::{Duration, Instant};

use ura::store::Store;
use ura::store::{audit, contracts};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [url, sample, rest @ ..] = args.as_slice() else {
        eprintln!("uso: store_read URL AMOSTRA [SEGUNDOS] [THREADS] [COMMITS_POR_S]");
        std::process::exit(2);
    };
    let seconds: u64 = rest.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads: usize = rest.get(1).and_then(|s| s.parse().ok()).unwrap_or(2).max(1);
    let commits_per_s: u64 = rest.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let documents: Vec<String> = std::fs::read_to_string(sample)
        .expect("amostra legível")
        .lines()
        .filter_map(|l| l.split(',').next().map(str::to_owned))
        .filter(|d| !d.is_empty())
        .collect();
    assert!(!documents.is_empty(), "amostra vazia");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = runtime.block_on(Store::open(url)).expect("banco");
    assert!(store.local.is_some(), "só SQLite em arquivo");
    let month = chrono::Local::now().format("%Y-%m").to_string();

    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let writer = (commits_per_s > 0).then(|| {
        let store = store.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let batch = vec![
                audit::Entry {
                    at: chrono::Utc::now(),
                    route: "consultacliente".into(),
                    method: "POST".into(),
                    http_status: 200,
                    ..Default::default()
                };
                500
            ];
            let every = Duration::from_micros(1_000_000 / commits_per_s);
            let mut commits = 0u64;
            while Instant::now() < until {
                runtime
                    .block_on(audit::insert(&store, &batch))
                    .expect("auditoria");
                commits += 1;
                std::thread::sleep(every);
            }
            commits
        })
    });
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            let documents = documents.clone();
            let month = month.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                let cpu = cpu_time();
                let mut took = Vec::new();
                let mut contracts_seen = 0usize;
                let mut i = t * documents.len() / threads;
                while Instant::now() < until {
                    let document = &documents[i % documents.len()];
                    let one = Instant::now();
                    let found = runtime
                        .block_on(contracts::summaries_by_document(&store, document, &month))
                        .expect("leitura");
                    took.push(one.elapsed());
                    contracts_seen += found.len();
                    i += 1;
                }
                (took, contracts_seen, cpu_time() - cpu)
            })
        })
        .collect();
    let mut took = Vec::new();
    let mut contracts_seen = 0;
    let mut cpu = Duration::ZERO;
    for worker in workers {
        let (t, c, u) = worker.join().expect("thread");
        took.extend(t);
        contracts_seen += c;
        cpu += u;
    }
    let wall = started.elapsed();
    let commits = writer.map_or(0, |w| w.join().expect("writer"));
    took.sort();
    let n = took.len();
    let pct = |p: usize| took[(n * p / 100).min(n - 1)];
    println!(
        "{threads} threads, {:.1} s: {n} leituras ({:.2} contratos cada), {:.0}/s; \
         CPU por leitura {:.1} µs; p50 {:.1} µs, p99 {:.1} µs; {:.0} commits/s",
        wall.as_secs_f64(),
        contracts_seen as f64 / n as f64,
        n as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n as f64,
        pct(50).as_secs_f64() * 1e6,
        pct(99).as_secs_f64() * 1e6,
        commits as f64 / wall.as_secs_f64(),
    );
}

/// The calling thread's CPU time (user and system).
fn cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}
