//! The ids a scenario names (awards, SKUs, events, rebates, explanation
//! steps), checked against its campaign before it runs: a name the campaign
//! does not have is refused with the ids it does have, not found out later as
//! "not run".

use tombola_ir::Campaign;

use super::{Coverage, Expect, Scenario, Step};

/// What a campaign has, by the kinds of id a scenario names.
struct Known<'c> {
    awards: Vec<&'c str>,
    skus: Vec<&'c str>,
    events: Vec<&'c str>,
    rebates: Vec<&'c str>,
    /// Where a draw's explanation can pass: `rule:…`, `tree:…/…`,
    /// `draw:…`, `issue:…`.
    places: Vec<String>,
}

impl<'c> Known<'c> {
    fn of(campaign: &'c Campaign) -> Known<'c> {
        let awards: Vec<&str> = campaign.awards.iter().map(|a| a.id.as_str()).collect();
        let mut places: Vec<String> = Coverage::of(campaign)
            .universe
            .into_iter()
            .filter(|at| !at.contains(" → "))
            .collect();
        for award in &awards {
            places.push(format!("draw:{award}"));
            places.push(format!("issue:{award}"));
        }
        Known {
            awards,
            skus: campaign.skus.iter().map(|s| s.id.as_str()).collect(),
            events: campaign
                .inputs
                .events
                .iter()
                .map(|e| e.name.as_str())
                .collect(),
            rebates: campaign.rebates.iter().map(|r| r.id.as_str()).collect(),
            places,
        }
    }
}

/// Refuses the first id in `scenario` that `campaign` does not have; the
/// error says where (`stock`, `step 3`) and lists the ids there are.
pub(crate) fn check(campaign: &Campaign, scenario: &Scenario) -> Result<(), String> {
    let known = Known::of(campaign);
    for award in scenario.stock.keys() {
        one_of(award, "award", &known.awards).map_err(|e| format!("`stock`: {e}"))?;
    }
    for award in scenario.codes.keys() {
        one_of(award, "award", &known.awards).map_err(|e| format!("`codes`: {e}"))?;
    }
    for (n, step) in scenario.steps.iter().enumerate() {
        step_names(step, &known).map_err(|e| format!("step {}: {e}", n + 1))?;
    }
    Ok(())
}

fn step_names(step: &Step, known: &Known<'_>) -> Result<(), String> {
    match step {
        Step::Draw(draw) => {
            if let Some(award) = &draw.lands_on {
                one_of(award, "award", &known.awards).map_err(|e| format!("`lands_on`: {e}"))?;
            }
            expect_names(draw.expect.as_ref(), known)
        }
        Step::Grant(sku) | Step::Exchange(sku) => {
            one_of(&sku.sku, "SKU", &known.skus).map_err(|e| format!("`sku`: {e}"))?;
            expect_names(sku.expect.as_ref(), known)
        }
        Step::Event(event) => {
            one_of(&event.event, "event", &known.events).map_err(|e| format!("`event`: {e}"))?;
            expect_names(event.expect.as_ref(), known)
        }
        Step::Advance(_) | Step::Credits(_) => Ok(()),
    }
}

fn expect_names(expect: Option<&Expect>, known: &Known<'_>) -> Result<(), String> {
    let Some(expect) = expect else {
        return Ok(());
    };
    if let Some(award) = &expect.award {
        one_of(award, "award", &known.awards).map_err(|e| format!("`expect.award`: {e}"))?;
    }
    for (rebate, outcome) in &expect.rebates {
        one_of(rebate, "rebate", &known.rebates).map_err(|e| format!("`expect.rebates`: {e}"))?;
        const OUTCOMES: [&str; 3] = ["applied", "condition_false", "already_done"];
        if !OUTCOMES.contains(&outcome.as_str()) {
            let hint = typo_hint(outcome, OUTCOMES);
            return Err(format!(
                "`expect.rebates.{rebate}`: `{outcome}` is not a rebate outcome{hint}; they are `applied`, `condition_false` and `already_done`"
            ));
        }
    }
    for pass in &expect.passes {
        // `at` or `at → outcome`: the place is what must exist; the outcome
        // is the run's to show.
        let at = pass.split(" → ").next().unwrap_or(pass).trim();
        let places: Vec<&str> = known.places.iter().map(String::as_str).collect();
        one_of(at, "explanation step", &places).map_err(|e| format!("`expect.passes`: {e}"))?;
    }
    Ok(())
}

/// ` (did you mean `x`?)` when one of `candidates` is a likely typo of
/// `name`, else nothing: what a refused name's message carries.
pub(crate) fn typo_hint<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    tombola_grammar::did_you_mean(name, candidates)
        .map(|close| format!(" (did you mean `{close}`?)"))
        .unwrap_or_default()
}

/// `Ok` if `name` is among `ids`; else says what it is not, the likely typo,
/// and every id there is.
fn one_of(name: &str, kind: &str, ids: &[&str]) -> Result<(), String> {
    if ids.contains(&name) {
        return Ok(());
    }
    let hint = typo_hint(name, ids.iter().copied());
    let listed = if ids.is_empty() {
        format!("the campaign has no {kind}s")
    } else {
        let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
        format!("the campaign's {kind}s are {}", ids.join(", "))
    };
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    Err(format!(
        "`{name}` is not {article} {kind} of the campaign{hint}; {listed}"
    ))
}

#[cfg(test)]
mod tests {
    use super::one_of;

    #[test]
    fn an_unknown_id_is_refused_with_the_ids_there_are() {
        assert_eq!(
            one_of("grand", "award", &["grand_prize"]).unwrap_err(),
            "`grand` is not an award of the campaign; the campaign's awards are `grand_prize`"
        );
        assert_eq!(one_of("sign_in-1", "rebate", &["sign_in-1"]), Ok(()));
        assert_eq!(
            one_of("rebate-1", "rebate", &["sign_in-1", "purchase-1"]).unwrap_err(),
            "`rebate-1` is not a rebate of the campaign; the campaign's rebates are `sign_in-1`, `purchase-1`"
        );
        assert_eq!(
            one_of("sign_in-2", "rebate", &["sign_in-1"]).unwrap_err(),
            "`sign_in-2` is not a rebate of the campaign (did you mean `sign_in-1`?); the campaign's rebates are `sign_in-1`"
        );
        assert_eq!(
            one_of("gold", "SKU", &[]).unwrap_err(),
            "`gold` is not a SKU of the campaign; the campaign has no SKUs"
        );
    }
}
