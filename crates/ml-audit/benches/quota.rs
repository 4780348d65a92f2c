//! The quota ledger for 10,000 workloads in 500 namespaces, against the full
//! scan (`Audit::new().run`) of the same inventory. Target: the ledger costs
//! under 10% of the scan.
//!
//! `cargo bench --bench quota -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use ml_audit::quota::Ledger;
use ml_audit::{Audit, Input, Inventory, LoadOptions};

const NAMESPACES: usize = 500;

/// Per namespace: 10 Deployments (one with an HPA), 2 RayClusters (head and
/// two worker groups), 2 PyTorchJobs (Master, Worker): 20 workloads; plus a
/// ResourceQuota, a LimitRange and a LocalQueue. 10 ClusterQueues in 2 cohorts.
fn corpus() -> String {
    let mut s = String::new();
    for c in 0..10 {
        s.push_str(&format!(
            "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {{name: cq{c}}}\nspec:\n  cohort: co{}\n  resourceGroups:\n  - coveredResources: [cpu, memory, nvidia.com/gpu]\n    flavors:\n    - name: a100\n      resources:\n      - {{name: cpu, nominalQuota: 1000}}\n      - {{name: memory, nominalQuota: 4Ti}}\n      - {{name: nvidia.com/gpu, nominalQuota: 64, borrowingLimit: 16}}\n---\n",
            c % 2
        ));
    }
    for n in 0..NAMESPACES {
        let ns = format!("team-{n}");
        s.push_str(&format!(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: compute, namespace: {ns}}}\nspec:\n  hard:\n    requests.cpu: \"200\"\n    requests.memory: 800Gi\n    limits.cpu: \"400\"\n    requests.nvidia.com/gpu: \"16\"\n    pods: \"100\"\n    count/deployments.apps: \"20\"\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {{name: defaults, namespace: {ns}}}\nspec:\n  limits:\n  - type: Container\n    default: {{cpu: \"1\", memory: 1Gi}}\n    defaultRequest: {{cpu: 250m, memory: 512Mi}}\n    max: {{memory: 64Gi}}\n---\napiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata: {{name: q, namespace: {ns}}}\nspec: {{clusterQueue: cq{}}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web-0, namespace: {ns}}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web-0}}\n  maxReplicas: 6\n---\n",
            n % 10
        ));
        for d in 0..10 {
            s.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{d}, namespace: {ns}}}\nspec:\n  replicas: 2\n  template:\n    metadata: {{labels: {{app: web-{d}}}}}\n    spec:\n      initContainers:\n      - name: init\n        image: busybox:1.36\n        resources: {{requests: {{cpu: 500m}}}}\n      - name: proxy\n        image: envoyproxy/envoy:v1.31.0\n        restartPolicy: Always\n        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}\n      containers:\n      - name: main\n        image: nginx:1.27\n        resources:\n          requests: {{cpu: 250m, memory: 256Mi}}\n          limits: {{memory: 512Mi}}\n---\n"
            ));
        }
        for r in 0..2 {
            s.push_str(&format!(
                "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc-{r}\n  namespace: {ns}\n  labels: {{kueue.x-k8s.io/queue-name: q}}\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers:\n        - name: head\n          image: rayproject/ray:2.9.0\n          resources: {{requests: {{cpu: \"2\", memory: 8Gi}}}}\n  workerGroupSpecs:\n  - groupName: gpu\n    replicas: 1\n    minReplicas: 0\n    maxReplicas: 4\n    template:\n      spec:\n        containers:\n        - name: worker\n          image: rayproject/ray:2.9.0\n          resources:\n            requests: {{cpu: \"8\", memory: 32Gi}}\n            limits: {{nvidia.com/gpu: 1}}\n  - groupName: cpu\n    replicas: 2\n    template:\n      spec:\n        containers:\n        - name: worker\n          image: rayproject/ray:2.9.0\n          resources: {{limits: {{cpu: \"4\", memory: 16Gi}}}}\n---\n"
            ));
        }
        for p in 0..2 {
            s.push_str(&format!(
                "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {{name: train-{p}, namespace: {ns}}}\nspec:\n  pytorchReplicaSpecs:\n    Master:\n      replicas: 1\n      template:\n        spec:\n          containers:\n          - name: pytorch\n            image: pytorch/pytorch:2.3.0\n            resources: {{limits: {{cpu: \"4\", memory: 16Gi, nvidia.com/gpu: 1}}}}\n    Worker:\n      replicas: 3\n      template:\n        spec:\n          containers:\n          - name: pytorch\n            image: pytorch/pytorch:2.3.0\n            resources: {{limits: {{cpu: \"4\", memory: 16Gi, nvidia.com/gpu: 1}}}}\n---\n"
            ));
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let loaded = ml_audit::load(
        &[Input::Text {
            name: "scale.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    let inv = Inventory::new(loaded);
    assert_eq!(inv.workloads.len(), 20 * NAMESPACES);
    assert_eq!(Ledger::build(&inv).namespaces.len(), NAMESPACES);
    let audit = Audit::new();
    let mut g = c.benchmark_group("quota-10k-workloads-500-namespaces");
    g.sample_size(10);
    g.bench_function("ledger", |b| b.iter_with_large_drop(|| Ledger::build(&inv)));
    g.bench_function("full-scan", |b| b.iter_with_large_drop(|| audit.run(&inv)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
