//! Snapshots of the compiled IR of every shipped campaign, and properties the
//! engine relies on: exact draw tables and trees that always end in an award.

use rust_decimal::Decimal;
use tombola_ir::{Campaign, NodeKind, Target};

#[path = "../support/shipped.rs"]
mod shipped;

fn campaigns() -> Vec<(String, Campaign)> {
    shipped::campaign_files()
        .into_iter()
        .map(|file| {
            let source = std::fs::read_to_string(&file).unwrap();
            let report = tombola_dsl::check_source(&source);
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            let campaign = report
                .campaign
                .unwrap_or_else(|| panic!("{stem} does not compile: {:#?}", report.diagnostics));
            (stem, campaign)
        })
        .collect()
}

#[test]
fn compiled_ir_of_every_campaign() {
    let all = campaigns();
    assert!(all.len() >= 3);
    for (stem, campaign) in all {
        insta::assert_yaml_snapshot!(stem, campaign);
    }
}

#[test]
fn pool_tables_give_every_award_exactly_its_rate() {
    for (stem, campaign) in campaigns() {
        let total = Decimal::from(campaign.table.total);
        let n = Decimal::from(campaign.table.len() as u64);
        for (entry, count) in campaign.table.exact_counts() {
            // count / (n · total) is the probability the alias table yields.
            let probability = Decimal::from_i128_with_scale(count as i128, 0) / (n * total);
            let rate = campaign.pool[entry as usize].rate;
            assert_eq!(probability, rate, "{stem}: entry {entry}");
        }
    }
}

#[test]
fn every_tree_path_ends_in_an_award() {
    for (stem, campaign) in campaigns() {
        for tree in &campaign.trees {
            // Walk every path; trees are validated acyclic, so this terminates.
            fn walk(nodes: &[tombola_ir::Node], target: Target, depth: usize) -> usize {
                assert!(depth <= nodes.len(), "a path longer than the tree: a cycle");
                match target {
                    Target::Issue => 1,
                    Target::Node(at) => match &nodes[at as usize].kind {
                        NodeKind::Fallback { .. } => 1,
                        kind => kind
                            .routes()
                            .into_iter()
                            .map(|(_, t)| walk(nodes, t, depth + 1))
                            .sum(),
                    },
                }
            }
            assert!(
                walk(&tree.nodes, tree.entry, 0) >= 1,
                "{stem}: tree {}",
                tree.id
            );
        }
    }
}
