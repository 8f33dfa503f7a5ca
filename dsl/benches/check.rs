//! Benchmarks of `tombola_dsl::check_source`: parse, decode, check and compile.
//!
//! Targets (2-core machine): 1,000 realistic campaigns in under 1 s in total;
//! one campaign with 10,000 awards in under 50 ms; the 20,000 findings of a
//! campaign with 10,000 unused, undeliverable awards rendered for people and
//! located for JSON in under 1 s (each position was once a scan from the
//! top of the file: 146 s for such a file before).
//!
//! Run: `cargo bench -p tombola-dsl --bench check`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod generate;

/// Number of realistic campaigns checked in one iteration.
const REALISTIC: usize = 1_000;
/// Awards in the huge campaign.
const HUGE_AWARDS: usize = 10_000;

/// Checks `source`, refusing to measure a campaign that does not pass.
fn check_clean(source: &str) -> tombola_dsl::Report {
    let report = tombola_dsl::check_source(source);
    assert!(
        report.diagnostics.is_empty() && report.campaign.is_some(),
        "a benchmark campaign has diagnostics: {:?}",
        report.diagnostics
    );
    report
}

fn check_1000_realistic(c: &mut Criterion) {
    let sources: Vec<String> = (0..REALISTIC as u64).map(generate::realistic).collect();
    for source in sources.iter().take(10) {
        check_clean(source);
    }
    let mut group = c.benchmark_group("check_1000_realistic");
    group.throughput(Throughput::Elements(REALISTIC as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("check_source", |b| {
        b.iter(|| {
            for source in &sources {
                black_box(tombola_dsl::check_source(black_box(source)));
            }
        })
    });
    group.finish();
}

fn check_huge(c: &mut Criterion) {
    let source = generate::huge(HUGE_AWARDS);
    check_clean(&source);
    let mut group = c.benchmark_group("check_huge_10000_awards");
    group.throughput(Throughput::Elements(HUGE_AWARDS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("check_source", |b| {
        b.iter(|| black_box(tombola_dsl::check_source(black_box(&source))))
    });
    group.finish();
}

/// A campaign of `awards` items, only the first in the pool and none
/// deliverable: two findings per award, spread over the whole file.
fn many_findings(awards: usize) -> String {
    let mut source = String::from("campaign: big\nname: Big\nawards:\n");
    for n in 0..awards {
        source.push_str(&format!("  a{n}: {{ kind: item, title: Award {n} }}\n"));
    }
    source + "pool:\n  - { award: a0, rate: 100% }\n"
}

fn render_many_findings(c: &mut Criterion) {
    let source = many_findings(HUGE_AWARDS);
    let report = tombola_dsl::check_source(&source);
    assert!(report.diagnostics.len() >= 2 * HUGE_AWARDS - 1);
    let mut group = c.benchmark_group("render_20000_findings");
    group.throughput(Throughput::Elements(report.diagnostics.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("human_and_json", |b| {
        b.iter(|| {
            let lines = tombola_dsl::render::Lines::new(&source);
            for diagnostic in &report.diagnostics {
                black_box(tombola_dsl::render::human(
                    "big.yaml", &lines, diagnostic, false,
                ));
                black_box(tombola_dsl::render::locate("big.yaml", &lines, diagnostic));
            }
        })
    });
    group.finish();
}

fn check_showcase(c: &mut Criterion) {
    let source = include_str!("../../campaigns/showcase.yaml");
    check_clean(source);
    let mut group = c.benchmark_group("check_showcase");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_function("check_source", |b| {
        b.iter(|| black_box(tombola_dsl::check_source(black_box(source))))
    });
    group.finish();
}

criterion_group!(
    benches,
    check_1000_realistic,
    check_huge,
    render_many_findings,
    check_showcase
);
criterion_main!(benches);
