//! Multi-replica training pods without a memory-backed `/dev/shm`.
use crate::inventory::Inventory;
use crate::rules::prelude::*;
use crate::rules::util::requests_accelerator;
use crate::workload::ContainerKind;

declare_rule! {
    id: "distributed-training-without-shm", category: "training", severity: Medium, workload: check, skip_patches: true,
    title: "Distributed training pods need a memory-backed /dev/shm",
}

/// Whether the workload mounts a memory-backed emptyDir at `/dev/shm`.
fn has_shm(w: &Workload) -> bool {
    let mem_vols: Vec<&str> = w
        .spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| {
            v.empty_dir
                .as_ref()
                .is_some_and(|e| e.medium.as_deref() == Some("Memory"))
        })
        .map(|v| v.name.as_str())
        .collect();
    w.containers_of(ContainerKind::App).any(|c| {
        c.spec.volume_mounts.iter().flatten().any(|m| {
            m.mount_path.trim_end_matches('/') == "/dev/shm" && mem_vols.contains(&m.name.as_str())
        })
    })
}

fn mentions_launcher(w: &Workload) -> bool {
    const WORDS: [&str; 8] = [
        "torchrun",
        "torch.distributed",
        "deepspeed",
        "accelerate launch",
        "horovodrun",
        "mpirun",
        "MASTER_ADDR",
        "WORLD_SIZE",
    ];
    w.containers.iter().any(|c| {
        let s = &c.spec;
        s.command
            .iter()
            .flatten()
            .chain(s.args.iter().flatten())
            .any(|a| WORDS.iter().any(|x| a.contains(x)))
            || s.env
                .iter()
                .flatten()
                .any(|e| WORDS.contains(&e.name.as_str()))
    })
}

/// Total pods each object's templates create.
struct PodTotals(std::collections::HashMap<usize, u32>);

impl PodTotals {
    fn build(inv: &Inventory) -> PodTotals {
        let mut m = std::collections::HashMap::new();
        for x in &inv.workloads {
            *m.entry(x.object).or_insert(0u32) += x.max_replicas.max(x.replicas);
        }
        PodTotals(m)
    }
}

/// Total pods the object's templates create.
fn total_pods(cx: &Context<'_>, obj: &Object) -> u32 {
    cx.analysis(PodTotals::build)
        .0
        .get(&obj.id)
        .copied()
        .unwrap_or(0)
}

/// Why this workload is distributed training, if it is.
fn distributed(cx: &Context<'_>, w: &Workload, obj: &Object) -> Option<String> {
    // An MPI launcher only runs `mpirun`; the workers train.
    if w.role.eq_ignore_ascii_case("launcher") {
        return None;
    }
    let g = obj.group();
    match (g, obj.kind.as_str()) {
        (
            "kubeflow.org",
            "PyTorchJob" | "MPIJob" | "TFJob" | "PaddleJob" | "JAXJob" | "XGBoostJob",
        ) => {
            let n = total_pods(cx, obj);
            (n > 1).then(|| format!("{} with {n} replicas", obj.kind))
        }
        // KubeRay mounts a memory-backed `shared-mem` volume on /dev/shm in
        // the Ray container of every head and worker pod itself.
        ("trainer.kubeflow.org", "TrainingRuntime" | "ClusterTrainingRuntime") => {
            if w.role.contains("initializer") {
                return None;
            }
            let ml = obj.root.field("spec").field("mlPolicy");
            let nodes = ml.field("numNodes").as_i64().unwrap_or(1);
            (nodes > 1 || ml.get("torch").is_some() || ml.get("mpi").is_some())
                .then(|| format!("{} with a multi-node ML policy", obj.kind))
        }
        ("jobset.x-k8s.io", "JobSet") | ("leaderworkerset.x-k8s.io", "LeaderWorkerSet") => {
            let n = total_pods(cx, obj);
            (n > 1 && (mentions_launcher(w) || requests_accelerator(w))).then(|| {
                format!(
                    "{} with {n} pods running a distributed launcher or GPUs",
                    obj.kind
                )
            })
        }
        _ => None,
    }
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let obj = cx.inventory.object(w.object);
    let Some(why) = distributed(cx, w, obj) else {
        return;
    };
    if has_shm(w) {
        return;
    }
    let Some(c) = w.containers_of(ContainerKind::App).next() else {
        return;
    };
    let pointer = if c.spec.volume_mounts.is_some() {
        c.pointer.key("volumeMounts")
    } else {
        c.pointer.clone()
    };
    out.push(
        finding(
            cx,
            &META,
            w,
            Some(c),
            &pointer,
            format!(
                "{why}, but container `{}` has no memory-backed volume on `/dev/shm`: the 64 MiB default breaks PyTorch data-loader workers, NCCL and the Ray object store",
                c.name
            ),
        )
        .help("add a volume `{name: dshm, emptyDir: {medium: Memory, sizeLimit: 8Gi}}` and mount it at `/dev/shm`"),
    );
}
