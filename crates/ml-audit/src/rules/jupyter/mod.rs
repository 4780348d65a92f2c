//! Jupyter servers and Kubeflow Notebooks.

pub(super) mod notebook_auth_disabled;
pub(super) mod notebook_host_access;
pub(super) mod notebook_runs_as_root;

use crate::object::Object;
use crate::workload::{ContainerRef, Workload};

/// Whether a container starts a Jupyter server.
pub(crate) fn runs_jupyter(c: &ContainerRef) -> bool {
    let s = &c.spec;
    s.command
        .iter()
        .flatten()
        .chain(s.args.iter().flatten())
        .any(|a| {
            a.contains("jupyter lab")
                || a.contains("jupyter notebook")
                || a.contains("jupyter server")
                || a.contains("jupyter-lab")
                || a.contains("jupyter-notebook")
                || a.contains("start-notebook.sh")
                || a.contains("start-singleuser.sh")
                || a.trim() == "jupyter"
        })
}

/// Whether a workload is a notebook: a Kubeflow Notebook, or pods that
/// start a Jupyter server.
pub(crate) fn is_notebook(obj: &Object, w: &Workload) -> bool {
    (obj.kind == "Notebook" && obj.group() == "kubeflow.org")
        || w.containers.iter().any(runs_jupyter)
}
