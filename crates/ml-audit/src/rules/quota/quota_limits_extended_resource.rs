//! `limits.<extended resource>` in a ResourceQuota.
use crate::quota::is_extended;
use crate::rules::prelude::*;

declare_rule! {
    id: "quota-limits-extended-resource", category: "quota", severity: Medium, object: check,
    title: "ResourceQuotas must cap extended resources such as GPUs with `requests.`, not `limits.`",
}

fn check(cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
    if o.kind != "ResourceQuota" || !o.group().is_empty() {
        return;
    }
    let Some(hard) = o.root.pointer("/spec/hard") else {
        return;
    };
    for e in hard.entries() {
        let Some(r) = e.key.strip_prefix("limits.") else {
            continue;
        };
        if !is_extended(r) {
            continue;
        }
        let p = Pointer::root().keys(&["spec", "hard", &e.key]);
        out.push(
            cx.finding(
                &META,
                o,
                &p,
                format!(
                    "{} sets `{}`: quota supports extended resources only as `requests.{r}` (their requests always equal their limits), so this GPU cap is refused or not enforced",
                    o.display_name(),
                    e.key
                ),
            )
            .help(format!("write `requests.{r}` instead")),
        );
    }
}
