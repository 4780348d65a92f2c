//! The `## Example` of every Pod Security Standards catalogue page is a
//! complete manifest that its rule flags, so a page cannot show an example
//! the rule does not catch.

use ml_audit::__internals::{level_of, run_rules};
use ml_audit::{Audit, Context, Input, Inventory, LoadOptions, Settings};

/// The first ```yaml block after `## Example`.
fn example(doc: &str) -> Option<String> {
    let (_, rest) = doc.split_once("## Example")?;
    let (_, rest) = rest.split_once("```yaml\n")?;
    let (block, _) = rest.split_once("```")?;
    Some(block.to_string())
}

#[test]
fn pss_page_examples_are_flagged() {
    let mut failures = Vec::new();
    let audit = Audit::new();
    let all: Vec<_> = audit
        .rules()
        .filter(|r| level_of(&r.meta().id).is_some())
        .collect();
    assert_eq!(all.len(), 19, "the Pod Security Standards have 19 controls");
    for &r in &all {
        let id = &r.meta().id;
        let Some(text) = example(&r.meta().doc) else {
            failures.push(format!("{id}: no ```yaml block under ## Example"));
            continue;
        };
        let loaded = ml_audit::load(
            &[Input::Text {
                name: format!("rules/{id}.md"),
                text,
            }],
            &LoadOptions::default(),
        );
        let inv = Inventory::new(loaded);
        if !inv.diagnostics.is_empty() {
            let msgs: Vec<_> = inv.diagnostics.iter().map(|d| d.message.clone()).collect();
            failures.push(format!("{id}: example does not load cleanly: {msgs:?}"));
        }
        let settings = Settings::default();
        let cx = Context::new(&inv, &settings);
        if run_rules(&cx, &[r]).is_empty() {
            failures.push(format!("{id}: the page's example is not flagged"));
        }
    }
    println!("pss page examples checked: {}", all.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
