//! A repository as it is deployed: the units under the inputs
//! ([`crate::units`]), each kustomization root rendered by the core
//! ([`crate::kustomize`]) and its objects added to what [`crate::load`]
//! read, with the file of every node they came from.
//!
//! A file a kustomization uses (a resource, a patch, a generator's data,
//! the kustomization itself) is read only as part of the roots that use
//! it, never on its own. A root that the core cannot build is an error at
//! the line at fault; its files are then read as plain files (or it is
//! rendered by [`crate::LoadOptions::fallback`], the user's kubectl), so
//! that nothing goes unaudited.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::kustomize::cache::{self, Cache};
use crate::kustomize::{render, RenderError, RenderedObject};
use crate::load::{display_path, Diagnostic, Input, Level, LoadOptions, Loaded};
use crate::object::{SourceFile, Written};
use crate::units::{normalize, units_of, Unit, UnitKind, Units, Use, KUSTOMIZATION_FILES};

/// Whether a path names a kustomization file.
pub(crate) fn is_kustomization(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
}

/// What [`plan`] decided: the units, and the roots to render.
pub(crate) struct Plan {
    units: Vec<Unit>,
    /// The files the walk listed (as shown): only these are read as plain
    /// files when their root cannot be built.
    listed: HashSet<String>,
    /// Files read so far (the kustomizations), for the renderer.
    cache: std::sync::Arc<Cache>,
}

/// Finds the units of the files a scan listed. When no kustomization is
/// among them, nothing changes (`None`). Otherwise the files that
/// kustomizations use, and the files of units whose role is not selected,
/// are taken out of `files`.
pub(crate) fn plan(
    inputs: &[Input],
    files: &mut Vec<(Input, bool)>,
    opts: &LoadOptions,
    not_selected: &mut usize,
) -> Option<Plan> {
    let paths: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Path(p) => Some(p.clone()),
            Input::Text { .. } => None,
        })
        .collect();
    // A directory given as an input may hold a `Kustomization` file, a name
    // the walk does not list (it has no extension).
    let named_dirs: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir() && crate::kustomize::kustomization_file(p).is_some())
        .cloned()
        .collect();
    let any = files
        .iter()
        .any(|(i, _)| matches!(i, Input::Path(p) if is_kustomization(p)));
    // Without kustomizations nothing is rendered; the units are still
    // needed when the config selects roles.
    if !any && named_dirs.is_empty() && opts.roles.is_empty() {
        return None;
    }
    // Built from the walk's order (already path order): a bulk build, not
    // one search per file.
    let mut listed: BTreeMap<PathBuf, (usize, bool)> = files
        .par_iter()
        .filter_map(|(input, hidden)| match input {
            Input::Path(p) => Some((normalize(p), (0, *hidden))),
            Input::Text { .. } => None,
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    for d in &named_dirs {
        if let Some(k) = crate::kustomize::kustomization_file(d) {
            listed.entry(normalize(&k)).or_insert((0, false));
        }
    }
    let cache = std::sync::Arc::new(Cache::confined_to(repositories(&paths)));
    let shown: HashSet<String> = listed.keys().map(|p| display_path(p)).collect();
    let found: Units = units_of(listed, &paths, opts, Units::default(), Some(&cache));
    // Only what could not be read at all: the rest (missing files, remote
    // bases, cycles) is what rendering reports, at the same line.
    let mut units = found.units;
    if !opts.roles.is_empty() {
        units.retain(|u| opts.roles.contains(&u.role));
    }
    let mut claimed: HashSet<&str> = HashSet::new();
    for u in &units {
        if u.kind == UnitKind::Kustomization {
            claimed.extend(u.files.iter().map(|f| f.path.as_str()));
        }
    }
    let kept_folders: HashSet<&str> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Folder)
        .flat_map(|u| u.files.iter().map(|f| f.path.as_str()))
        .collect();
    let role_filter = !opts.roles.is_empty();
    // Per file: kept, claimed by a kustomization, or left out by role.
    let verdict: Vec<Option<bool>> = files
        .par_iter()
        .map(|(input, hidden)| match input {
            Input::Text { .. } => Some(true),
            Input::Path(p) => {
                if is_kustomization(p) {
                    return None;
                }
                let shown = display_path(&normalize(p));
                if claimed.contains(shown.as_str()) {
                    return None;
                }
                // A file of a folder whose role is not selected; hidden
                // files belong to no folder unit and are kept.
                Some(!(role_filter && !*hidden && !kept_folders.contains(shown.as_str())))
            }
        })
        .collect();
    *not_selected += verdict.iter().filter(|v| **v == Some(false)).count();
    let mut keep = verdict.into_iter();
    files.retain(|_| keep.next().flatten().unwrap_or(false));
    Some(Plan {
        units,
        listed: shown,
        cache,
    })
}

/// The directories renderings may read under: for each input, the git
/// work tree it is in, else the working directory when the input is under
/// it, else the input's own directory (real paths). A base
/// elsewhere in the repository is read (an overlay scanned alone); a path
/// out of it is refused at its line.
fn repositories(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        let Ok(real) = p.canonicalize() else {
            continue;
        };
        let start = if real.is_dir() {
            real
        } else {
            real.parent().map(Path::to_path_buf).unwrap_or(real)
        };
        // The git work tree; outside git, the working directory when the
        // input lies under it (a checkout without `.git`), else the input.
        let cwd = std::env::current_dir().and_then(|d| d.canonicalize()).ok();
        let repo = start
            .ancestors()
            .find(|a| a.join(".git").exists())
            .map(Path::to_path_buf)
            .or_else(|| cwd.filter(|c| start.starts_with(c)))
            .unwrap_or_else(|| start.clone());
        if !out.contains(&repo) {
            out.push(repo);
        }
    }
    out
}

/// One root's rendering, or why it failed.
type Rendered = Result<Vec<RenderedObject>, RenderError>;

/// Renders the kustomization roots of `plan` and adds their objects (and
/// the files they come from) to `loaded`.
pub(crate) fn add_rendered(loaded: &mut Loaded, plan: Plan, opts: &LoadOptions) {
    let Plan {
        units,
        listed,
        cache,
    } = plan;
    let roots: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind == UnitKind::Kustomization)
        .collect();
    // Roots share their bases: each file is read and parsed once.
    let rendered: Vec<Rendered> = roots
        .par_iter()
        .with_max_len(1)
        .map(|&i| cache::with(&cache, || render(&units[i].dir)))
        .collect();
    // Files of roots that rendered: a failed root's files that no rendered
    // root uses are read as plain files.
    let rendered_files: HashSet<&str> = roots
        .iter()
        .zip(&rendered)
        .filter(|(_, r)| r.is_ok())
        .flat_map(|(&i, _)| units[i].files.iter().map(|f| f.path.as_str()))
        .collect();
    let mut by_name: HashMap<String, usize> = loaded
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    let mut plain: Vec<Input> = Vec::new();
    let mut failed: BTreeMap<(String, u32, String), Vec<String>> = BTreeMap::new();
    let mut fallback_texts: Vec<(usize, String)> = Vec::new();
    for (&i, r) in roots.iter().zip(&rendered) {
        let Err(e) = r else { continue };
        let unit = &units[i];
        let at = display_path(&normalize(&e.file));
        match opts.fallback.map(|f| f(&unit.dir)) {
            Some(Ok(text)) => {
                loaded.diagnostics.push(Diagnostic {
                    level: Level::Warning,
                    file: at,
                    line: e.line,
                    col: u32::from(e.line > 0),
                    message: format!(
                        "the kustomization {} is rendered with kubectl, which the built-in renderer cannot do ({}): its findings point at lines of the rendered stream",
                        unit.path, e.message
                    ),
                });
                fallback_texts.push((i, text));
            }
            fell => {
                let why = match fell {
                    Some(Err(k)) => format!("; kubectl could not render it either: {k}"),
                    _ => String::new(),
                };
                failed
                    .entry((at, e.line, format!("{}{why}", e.message)))
                    .or_default()
                    .push(unit.path.clone());
                for f in &unit.files {
                    let readable = matches!(f.used_as, Use::Resource | Use::Patch | Use::Crd);
                    if readable
                        && listed.contains(&f.path)
                        && !rendered_files.contains(f.path.as_str())
                        && !by_name.contains_key(&f.path)
                    {
                        by_name.insert(f.path.clone(), usize::MAX);
                        plain.push(Input::Path(PathBuf::from(&f.path)));
                    }
                }
            }
        }
    }
    // One error per cause: a base that cannot be built fails every root
    // that uses it, and is named once with all of them.
    for ((file, line, cause), roots) in failed {
        let which = match roots.as_slice() {
            [one] => format!("the kustomization {one}"),
            [first, rest @ ..] => format!(
                "{} kustomizations ({first}, and {} more)",
                roots.len(),
                rest.len()
            ),
            [] => continue,
        };
        loaded.diagnostics.push(Diagnostic {
            level: Level::Error,
            file,
            line,
            col: u32::from(line > 0),
            message: format!(
                "cannot build {which}: {cause}; the files it uses are audited as plain files (to render it with kubectl instead: --render kubectl)"
            ),
        });
    }
    plain.sort_by(|a, b| match (a, b) {
        (Input::Path(a), Input::Path(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    });
    let mut inputs: Vec<Input> = plain;
    for (i, text) in &fallback_texts {
        inputs.push(Input::Text {
            name: format!("kustomize:{}", units[*i].path),
            text: text.clone(),
        });
    }
    if !inputs.is_empty() {
        // Read as plain files; what the renderer parsed already is not
        // parsed again.
        let files: Vec<(Input, bool)> = inputs.into_iter().map(|i| (i, false)).collect();
        let extra = crate::load::read_plain(
            &files,
            opts,
            Vec::new(),
            crate::walk::Skipped::default(),
            Some(&cache),
        );
        let base = loaded.files.len();
        let first_obj = loaded.objects.len();
        for mut o in extra.objects {
            o.file += base;
            o.id = loaded.objects.len();
            loaded.objects.push(o);
        }
        // Objects rendered by kubectl belong to their unit.
        for (i, _) in &fallback_texts {
            let name = format!("kustomize:{}", units[*i].path);
            let fid = extra.files.iter().position(|f| f.path == name);
            for o in &mut loaded.objects[first_obj..] {
                if Some(o.file - base) == fid {
                    o.unit = Some(*i as u32);
                }
            }
        }
        loaded.files.extend(extra.files);
        loaded.diagnostics.extend(extra.diagnostics);
    }
    by_name = loaded
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    // Every file a rendered object comes from, once, in order of first use:
    // each distinct path as the renderer wrote it is resolved once (an
    // origin names a file by the path it was reached by).
    let mut raw: HashMap<PathBuf, usize> = HashMap::new();
    let mut wanted: Vec<(String, PathBuf)> = Vec::new();
    let mut new_ids: HashMap<String, usize> = HashMap::new();
    let first_new = loaded.files.len();
    for objs in rendered.iter().flatten() {
        for o in objs {
            for origin in &o.origins {
                if raw.contains_key(origin.file.as_path()) {
                    continue;
                }
                let p = normalize(&origin.file);
                let shown = display_path(&p);
                let id = match by_name.get(&shown).or_else(|| new_ids.get(&shown)) {
                    Some(&id) => id,
                    None => {
                        let id = first_new + wanted.len();
                        new_ids.insert(shown.clone(), id);
                        wanted.push((shown, p));
                        id
                    }
                };
                raw.insert(origin.file.clone(), id);
            }
        }
    }
    let sources: Vec<SourceFile> = wanted
        .par_iter()
        .map(|(shown, p)| source_file(shown, p, opts, &cache))
        .collect();
    loaded.files.extend(sources);
    // The objects, converted in parallel, numbered in order.
    let todo: Vec<(usize, usize, RenderedObject)> = roots
        .iter()
        .zip(rendered)
        .filter_map(|(&i, r)| r.ok().map(|objs| (i, objs)))
        .flat_map(|(i, objs)| objs.into_iter().enumerate().map(move |(d, o)| (i, d, o)))
        .collect();
    let files = &loaded.files;
    let made: Vec<(Vec<crate::Object>, Vec<Diagnostic>)> = todo
        .into_par_iter()
        .map(|(i, doc, ro)| {
            let Some(first) = ro.origins.first() else {
                return (Vec::new(), Vec::new());
            };
            let fid = raw[first.file.as_path()];
            let origins: Vec<Written> = ro
                .origins
                .iter()
                .map(|o| Written {
                    pointer: o.pointer.as_str().into(),
                    file: raw[o.file.as_path()],
                    line: o.line,
                    keeps_span: o.keeps_span,
                })
                .collect();
            let mut diags = crate::load::FileDiags::new(&files[fid].path);
            let mut made = Vec::new();
            crate::load::to_objects(fid, doc, ro.node, &mut made, &mut diags, 0);
            for o in &mut made {
                o.unit = Some(i as u32);
                o.origins = origins.clone();
            }
            (made, diags.finish())
        })
        .collect();
    for (objs, diags) in made {
        for mut o in objs {
            o.id = loaded.objects.len();
            loaded.objects.push(o);
        }
        loaded.diagnostics.extend(diags);
    }
    loaded.units = units;
}

/// A file a rendered object comes from, as the report shows it: its text
/// (for snippets) and its comments (for suppressions). The renderer has
/// read it already; a file that cannot be read now is kept empty.
fn source_file(shown: &str, p: &Path, opts: &LoadOptions, cache: &Cache) -> SourceFile {
    let text = match cache::text_of(cache, p) {
        Some(e) => e.text.clone().unwrap_or_default(),
        None => crate::load::read_bounded(p, opts.max_file_bytes)
            .ok()
            .and_then(|b| crate::load::decode(shown, b).ok())
            .map(crate::load::normalize_newlines)
            .unwrap_or_default(),
    };
    let comments = if !crate::load::is_json(shown) && text.contains(crate::suppress::COMMENT_MARKER)
    {
        crate::yaml::parse_stream_with_comments(&text, opts.limits).comments
    } else {
        Vec::new()
    };
    SourceFile {
        path: shown.to_string(),
        text,
        comments,
    }
}
