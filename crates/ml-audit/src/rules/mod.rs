//! The built-in rules. Each rule lives in its own file with its metadata;
//! its catalogue page is `rules/<id>.md` at the repository root.

use crate::rule::Rule;

pub mod pss;
pub mod quota;

/// Every built-in rule, in catalogue order.
pub fn builtin() -> Vec<Box<dyn Rule>> {
    let mut v: Vec<Box<dyn Rule>> = Vec::new();
    for r in pss::rules() {
        v.push(Box::new(r));
    }
    v.extend(quota::rules());
    v
}
