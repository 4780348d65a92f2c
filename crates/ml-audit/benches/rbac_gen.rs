//! A generated RBAC inventory at scale: ServiceAccounts, Roles/ClusterRoles
//! and bindings across namespaces, with a mix of everyday and escalating
//! rules. Shared by the criterion bench and the `rbac_scale` example.

use std::fmt::Write;

/// Sizes of the generated inventory.
pub struct Scale {
    pub namespaces: usize,
    pub service_accounts: usize,
    pub roles: usize,
    pub bindings: usize,
}

/// The target: 5,000 ServiceAccounts, 20,000 roles, 40,000 bindings, 1,000 namespaces.
pub const TARGET: Scale = Scale {
    namespaces: 1_000,
    service_accounts: 5_000,
    roles: 20_000,
    bindings: 40_000,
};

const RULES: &[&str] = &[
    "- {apiGroups: [\"\"], resources: [configmaps, services], verbs: [get, list, watch]}\n",
    "- {apiGroups: [\"\"], resources: [pods], verbs: [create, delete]}\n",
    "- {apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}\n",
    "- {apiGroups: [ray.io], resources: [rayclusters], verbs: [create, patch]}\n",
    "- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}\n",
    "- {apiGroups: [kubeflow.org], resources: [\"*\"], verbs: [\"*\"]}\n",
    "- {apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create], resourceNames: [sa-1]}\n",
    "- {apiGroups: [apps], resources: [deployments], verbs: [get, list, patch]}\n",
    "- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n",
    "- {apiGroups: [rbac.authorization.k8s.io], resources: [roles, clusterroles], verbs: [bind], resourceNames: [view]}\n",
];

/// The inventory as YAML text.
pub fn generate(s: &Scale) -> String {
    let mut y = String::with_capacity(s.bindings * 400);
    let sa_per_ns = s.service_accounts / s.namespaces;
    let cluster_roles = s.roles / 20;
    let roles_per_ns = (s.roles - cluster_roles) / s.namespaces;
    let crbs = s.bindings / 80;
    let rb_per_ns = (s.bindings - crbs) / s.namespaces;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for n in 0..s.namespaces {
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{n}}}\n"
        );
        for a in 0..sa_per_ns {
            let _ = write!(y, "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{a}, namespace: ns-{n}}}\n");
        }
    }
    let role_rules = |y: &mut String, rnd: &mut dyn FnMut(usize) -> usize, cluster: bool| {
        y.push_str("rules:\n");
        y.push_str(RULES[0]);
        for _ in 0..2 {
            // Cluster roles get rarer escalating rules.
            let i = rnd(RULES.len() * if cluster { 4 } else { 1 });
            if i < RULES.len() {
                y.push_str(RULES[i]);
            }
        }
    };
    for c in 0..cluster_roles {
        let _ = write!(y, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: cr-{c}}}\n");
        role_rules(&mut y, &mut rnd, true);
    }
    for n in 0..s.namespaces {
        for r in 0..roles_per_ns {
            let _ = write!(y, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: role-{r}, namespace: ns-{n}}}\n");
            role_rules(&mut y, &mut rnd, false);
        }
    }
    for c in 0..crbs {
        let _ = write!(
            y,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb-{c}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-{}}}\nsubjects:\n- {{kind: ServiceAccount, name: sa-{}, namespace: ns-{}}}\n",
            rnd(cluster_roles),
            rnd(sa_per_ns),
            rnd(s.namespaces)
        );
    }
    for n in 0..s.namespaces {
        for b in 0..rb_per_ns {
            let (kind, role) = if rnd(4) == 0 {
                ("ClusterRole", format!("cr-{}", rnd(cluster_roles)))
            } else {
                ("Role", format!("role-{}", rnd(roles_per_ns)))
            };
            let subject = match rnd(20) {
                0 => format!("{{kind: User, name: user-{}}}", rnd(2_000)),
                1 => format!("{{kind: Group, name: team-{}}}", rnd(200)),
                2 => format!(
                    "{{kind: ServiceAccount, name: sa-{}, namespace: ns-{}}}",
                    rnd(sa_per_ns),
                    rnd(s.namespaces)
                ),
                _ => format!(
                    "{{kind: ServiceAccount, name: sa-{}, namespace: ns-{n}}}",
                    rnd(sa_per_ns)
                ),
            };
            let _ = write!(
                y,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb-{b}, namespace: ns-{n}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {role}}}\nsubjects:\n- {subject}\n"
            );
        }
    }
    y
}
