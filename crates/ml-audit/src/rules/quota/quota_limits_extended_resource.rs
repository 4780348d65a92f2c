//! `limits.<extended resource>` in a ResourceQuota.
use crate::finding::{Finding, Severity};
use crate::node::Pointer;
use crate::object::Object;
use crate::quota::is_extended;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub const META: RuleMeta = RuleMeta::builtin(
    "quota-limits-extended-resource",
    "quota",
    Severity::Medium,
    "ResourceQuotas must cap extended resources such as GPUs with `requests.`, not `limits.`",
    rule_doc!("quota-limits-extended-resource"),
);

pub struct QuotaLimitsExtendedResource;

impl Rule for QuotaLimitsExtendedResource {
    fn meta(&self) -> &RuleMeta {
        static M: RuleMeta = META;
        &M
    }

    fn check_object(&self, cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
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
}
