//! Differential test: the class-based reachability (classes of pods with the
//! same namespace, selector answers and named ports; tables computed once)
//! must give the same verdict as a naive pod-by-pod evaluation of the same
//! semantics, on random small inventories with NetworkPolicies,
//! AdminNetworkPolicies, a BaselineAdminNetworkPolicy, namespaces with and
//! without Namespace objects, named ports and ipBlocks.

use ml_audit::__internals::{verdict, Ep};
use ml_audit::netpol::{MissingNamespaces, NaiveOracle, Options, Reachability};
use ml_audit::Inventory;
use proptest::prelude::*;

/// Consumes random numbers to write an inventory.
struct Gen {
    r: Vec<u32>,
    i: usize,
}

impl Gen {
    fn n(&mut self, k: u32) -> u32 {
        let v = self.r[self.i % self.r.len()].wrapping_add(self.i as u32 / self.r.len() as u32);
        self.i += 1;
        v % k
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.n(xs.len() as u32) as usize]
    }
    fn selector(&mut self, label_keys: &[&str]) -> String {
        let mut parts = Vec::new();
        for _ in 0..self.n(3) {
            let k = self.pick(label_keys);
            let v = self.pick(&["a", "b", "c"]);
            match self.n(5) {
                0 => parts.push(format!("matchLabels: {{{k}: {v}}}")),
                1 => parts.push(format!(
                    "matchExpressions: [{{key: {k}, operator: In, values: [{v}, b]}}]"
                )),
                2 => parts.push(format!(
                    "matchExpressions: [{{key: {k}, operator: NotIn, values: [{v}]}}]"
                )),
                3 => parts.push(format!(
                    "matchExpressions: [{{key: {k}, operator: Exists}}]"
                )),
                _ => parts.push(format!(
                    "matchExpressions: [{{key: {k}, operator: DoesNotExist}}]"
                )),
            }
        }
        // one of each key kind at most
        parts.truncate(1);
        format!("{{{}}}", parts.join(", "))
    }
    fn np_ports(&mut self) -> String {
        let mut ps = Vec::new();
        for _ in 0..self.n(3) {
            let proto = self.pick(&["TCP", "UDP", "SCTP"]);
            match self.n(4) {
                0 => ps.push(format!("{{protocol: {proto}, port: {}}}", 50 + self.n(40))),
                1 => ps.push(format!(
                    "{{protocol: {proto}, port: {}, endPort: {}}}",
                    50 + self.n(20),
                    70 + self.n(20)
                )),
                2 => ps.push(format!(
                    "{{protocol: {proto}, port: {}}}",
                    self.pick(&["http", "dns", "metrics"])
                )),
                _ => ps.push(format!("{{protocol: {proto}}}")),
            }
        }
        if ps.is_empty() && self.n(2) == 0 {
            String::new()
        } else {
            format!(", ports: [{}]", ps.join(", "))
        }
    }
    fn np_peers(&mut self, key: &str) -> String {
        let mut ps = Vec::new();
        for _ in 0..self.n(3) {
            match self.n(4) {
                0 => ps.push(format!(
                    "{{podSelector: {}}}",
                    self.selector(&["app", "tier"])
                )),
                1 => ps.push(format!(
                    "{{namespaceSelector: {}}}",
                    self.selector(&["team", "env"])
                )),
                2 => ps.push(format!(
                    "{{namespaceSelector: {}, podSelector: {}}}",
                    self.selector(&["team", "env"]),
                    self.selector(&["app", "tier"])
                )),
                _ => ps.push(format!(
                    "{{ipBlock: {{cidr: {}.0.0.0/8, except: [{}.{}.0.0/16]}}}}",
                    10 + self.n(2),
                    10 + self.n(2),
                    self.n(3)
                )),
            }
        }
        if ps.is_empty() && self.n(2) == 0 {
            String::new()
        } else {
            format!("{key}: [{}]", ps.join(", "))
        }
    }
    fn admin_rules(&mut self, key: &str, pass: bool) -> String {
        let mut rules = Vec::new();
        for i in 0..self.n(3) {
            let action = if pass {
                self.pick(&["Allow", "Deny", "Pass"])
            } else {
                self.pick(&["Allow", "Deny"])
            };
            let peer = match self.n(3) {
                0 => format!("{{namespaces: {}}}", self.selector(&["team", "env"])),
                1 => format!(
                    "{{pods: {{namespaceSelector: {}, podSelector: {}}}}}",
                    self.selector(&["team", "env"]),
                    self.selector(&["app", "tier"])
                ),
                _ if key == "to" => "{networks: [10.0.0.0/8]}".to_string(),
                _ => "{namespaces: {}}".to_string(),
            };
            let ports = match self.n(4) {
                0 => format!(
                    ", ports: [{{portNumber: {{protocol: {}, port: {}}}}}]",
                    self.pick(&["TCP", "UDP"]),
                    50 + self.n(40)
                ),
                1 => format!(", ports: [{{namedPort: {}}}]", self.pick(&["http", "dns"])),
                2 => format!(
                    ", ports: [{{portRange: {{protocol: TCP, start: {}, end: {}}}}}]",
                    50 + self.n(20),
                    70 + self.n(20)
                ),
                _ => String::new(),
            };
            rules.push(format!(
                "  - {{name: r{i}, action: {action}, {key}: [{peer}]{ports}}}"
            ));
        }
        rules.join("\n")
    }
}

fn inventory(seed: Vec<u32>) -> String {
    let mut g = Gen { r: seed, i: 0 };
    let mut docs = Vec::new();
    let namespaces = ["ns0", "ns1", "ns2"];
    for ns in namespaces {
        if g.n(3) > 0 {
            docs.push(format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: {}, env: {}}}}}",
                g.pick(&["a", "b"]),
                g.pick(&["a", "c"])
            ));
        }
    }
    for i in 0..(1 + g.n(6)) {
        let ns = g.pick(&namespaces);
        let mut labels = vec![format!("app: {}", g.pick(&["a", "b", "c"]))];
        if g.n(2) == 0 {
            labels.push(format!("tier: {}", g.pick(&["a", "b"])));
        }
        let mut ports = Vec::new();
        if g.n(2) == 0 {
            ports.push(format!(
                "{{name: http, containerPort: {}, protocol: TCP}}",
                50 + g.n(40)
            ));
        }
        if g.n(2) == 0 {
            ports.push(format!(
                "{{name: dns, containerPort: {}, protocol: UDP}}",
                50 + g.n(40)
            ));
        }
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{{}}}}}\n    spec: {{containers: [{{name: c, image: i, ports: [{}]}}]}}",
            labels.join(", "),
            ports.join(", ")
        ));
    }
    for i in 0..g.n(5) {
        let ns = g.pick(&namespaces);
        let types = g.pick(&["", "[Ingress]", "[Egress]", "[Ingress, Egress]"]);
        let mut spec = format!("  podSelector: {}\n", g.selector(&["app", "tier"]));
        if !types.is_empty() {
            spec.push_str(&format!("  policyTypes: {types}\n"));
        }
        for (dir, key) in [("ingress", "from"), ("egress", "to")] {
            if g.n(3) == 0 {
                continue;
            }
            let mut rules = Vec::new();
            for _ in 0..g.n(3) {
                let peers = g.np_peers(key);
                let ports = g.np_ports();
                let body = format!("{peers}{ports}");
                rules.push(format!("  - {{{}}}", body.trim_start_matches(", ")));
            }
            if rules.is_empty() {
                spec.push_str(&format!("  {dir}: []\n"));
            } else {
                spec.push_str(&format!("  {dir}:\n{}\n", rules.join("\n")));
            }
        }
        docs.push(format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{i}, namespace: {ns}}}\nspec:\n{spec}"
        ));
    }
    for i in 0..g.n(3) {
        let subject = if g.n(2) == 0 {
            format!("{{namespaces: {}}}", g.selector(&["team", "env"]))
        } else {
            format!(
                "{{pods: {{namespaceSelector: {}, podSelector: {}}}}}",
                g.selector(&["team", "env"]),
                g.selector(&["app", "tier"])
            )
        };
        let ing = g.admin_rules("from", true);
        let egr = g.admin_rules("to", true);
        docs.push(format!(
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: anp{i}}}\nspec:\n  priority: {}\n  subject: {subject}\n  ingress:\n{ing}\n  egress:\n{egr}",
            i * 10 + g.n(5)
        ));
    }
    if g.n(2) == 0 {
        let subject = format!("{{namespaces: {}}}", g.selector(&["team", "env"]));
        let ing = g.admin_rules("from", false);
        let egr = g.admin_rules("to", false);
        docs.push(format!(
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {{name: default}}\nspec:\n  subject: {subject}\n  ingress:\n{ing}\n  egress:\n{egr}"
        ));
    }
    docs.join("\n---\n")
}

fn check(text: &str, missing: MissingNamespaces) -> Result<(), TestCaseError> {
    let inv = Inventory::from_text("gen.yaml", text);
    let errors: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == ml_audit::Level::Error)
        .collect();
    prop_assert!(
        errors.is_empty(),
        "generated input does not load: {:?}\n{}",
        errors,
        text
    );
    let r = Reachability::build(
        &inv,
        &Options {
            missing_namespaces: missing,
        },
    );
    let naive = NaiveOracle { r: &r };
    let n = r.peers.len();
    for s in 0..n {
        for d in 0..n {
            let want = verdict(&r.policies, &naive, Ep::Pod(s), Ep::Pod(d));
            prop_assert_eq!(
                r.between(s, d),
                &want,
                "{} -> {}\n{}",
                r.peers[s].display(),
                r.peers[d].display(),
                text
            );
        }
        for (b, ip) in r.out_blocks.iter().enumerate() {
            let want = verdict(&r.policies, &naive, Ep::Pod(s), Ep::Ip(*ip));
            prop_assert_eq!(r.to_external(s, b), &want);
        }
        for (b, ip) in r.in_blocks.iter().enumerate() {
            let want = verdict(&r.policies, &naive, Ep::Ip(*ip), Ep::Pod(s));
            prop_assert_eq!(r.from_external(b, s), &want);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn classes_equal_naive(seed in prop::collection::vec(any::<u32>(), 40..120)) {
        let text = inventory(seed);
        check(&text, MissingNamespaces::Unknown)?;
        check(&text, MissingNamespaces::NameLabelOnly)?;
    }
}

#[test]
fn generator_produces_policies() {
    let text = inventory((0..100).map(|i| i * 7919).collect());
    println!("{text}");
    assert!(text.contains("kind: Deployment"));
}
