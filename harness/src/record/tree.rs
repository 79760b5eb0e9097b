//! Records a staging tree as it is on disk: kinds, modes, symlink targets
//! and real bytes, in the order GNU cp visits it.
//!
//! cp reads each directory whole and visits its entries by ascending inode
//! number (gnulib `savedir(SAVEDIR_SORT_FASTREAD)`), depth first, pre-order.
//! The payload lists entries in exactly that order (names break inode ties),
//! so [`cp_plan`] rebuilds the copy with `CpPlan::from_ordered` and the cp job
//! runs in the recorded order. Symlinks are recorded, never followed: nothing
//! outside the tree is read.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use crate::content::Blob;
use crate::error::{Error, Result};
use crate::execution::{execute, JobEnd};
use crate::fs::ModelFs;
use crate::job::{CpJob, CpKind, CpPlan, Job, RecordedOp, RecordedResult, TraceProgram, TraceSpec};
use crate::op::Value;
use crate::scenario::{Package, PayloadEntry, PayloadKind};
use crate::schedule::SerialScheduler;

// The largest file a recorded tree may hold: a payload file's limit.
use crate::limits::MAX_FILE_SIZE as MAX_TREE_FILE;

/// Reads the tree under `dir` into a package payload in cp's visiting order.
pub fn record_tree(dir: &Path) -> Result<Package> {
    let shown = dir.display().to_string();
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io(&shown, &e))?;
    if !meta.is_dir() {
        return Err(Error::input(
            &shown,
            0,
            "tree",
            "not a directory (symlinks are not followed)",
        ));
    }
    let mut payload = Vec::new();
    visit(dir, "", &mut payload)?;
    if payload.is_empty() {
        return Err(Error::input(&shown, 0, "tree", "the directory is empty"));
    }
    let (name, version) = dist_name(&payload).unwrap_or_else(|| {
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tree".to_string());
        (base, String::new())
    });
    Ok(Package {
        name,
        version,
        payload,
        after: Vec::new(),
        compile: false,
        scripts: Vec::new(),
    })
}

fn visit(root: &Path, rel: &str, out: &mut Vec<PayloadEntry>) -> Result<()> {
    let here = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let shown = here.display().to_string();
    let mut children = Vec::new();
    for entry in std::fs::read_dir(&here).map_err(|e| Error::io(&shown, &e))? {
        let entry = entry.map_err(|e| Error::io(&shown, &e))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| Error::input(&shown, 0, "name", format!("{n:?} is not valid UTF-8")))?;
        if let Some(c) = crate::fs::control_character(&name) {
            return Err(Error::input(
                &shown,
                0,
                "name",
                format!("{name:?} holds the control character {c:?}"),
            ));
        }
        let meta = std::fs::symlink_metadata(entry.path())
            .map_err(|e| Error::io(entry.path().display().to_string(), &e))?;
        children.push((meta.ino(), name, meta));
    }
    children.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (_, name, meta) in children {
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let full = root.join(&path);
        let fshown = full.display().to_string();
        let mode = meta.mode() & 0o7777;
        let ft = meta.file_type();
        let kind = if ft.is_symlink() {
            let target = std::fs::read_link(&full).map_err(|e| Error::io(&fshown, &e))?;
            let target = target
                .into_os_string()
                .into_string()
                .map_err(|_| Error::input(&fshown, 0, "target", "symlink target is not UTF-8"))?;
            if let Some(c) = crate::fs::control_character(&target) {
                return Err(Error::input(
                    &fshown,
                    0,
                    "target",
                    format!("symlink target {target:?} holds the control character {c:?}"),
                ));
            }
            PayloadKind::Symlink(target.into())
        } else if ft.is_dir() {
            PayloadKind::Dir
        } else if ft.is_file() {
            if meta.len() > MAX_TREE_FILE {
                return Err(Error::input(
                    &fshown,
                    0,
                    "size",
                    "file exceeds the size limit",
                ));
            }
            PayloadKind::File(Blob::new(
                std::fs::read(&full).map_err(|e| Error::io(&fshown, &e))?,
            ))
        } else {
            return Err(Error::input(
                &fshown,
                0,
                "kind",
                "not a file, directory or symlink",
            ));
        };
        let is_dir = matches!(kind, PayloadKind::Dir);
        out.push(PayloadEntry {
            path: Arc::from(path.as_str()),
            kind,
            mode,
        });
        if is_dir {
            visit(root, &path, out)?;
        }
    }
    Ok(())
}

/// `name-version` of the first `*.dist-info` directory in the payload.
fn dist_name(payload: &[PayloadEntry]) -> Option<(String, String)> {
    payload.iter().find_map(|e| {
        let last = e.path.rsplit('/').next()?;
        let base = last.strip_suffix(".dist-info")?;
        let (n, v) = base.split_once('-')?;
        Some((n.to_string(), v.to_string()))
    })
}

/// The copy of a recorded tree in its recorded order (`CpOrder::Recorded`).
pub fn cp_plan(payload: &[PayloadEntry], dst_display: &str, src_display: &str) -> CpPlan {
    let list = payload
        .iter()
        .map(|e| {
            let kind = match &e.kind {
                PayloadKind::Dir => CpKind::Dir,
                PayloadKind::File(b) => CpKind::File(b.clone()),
                PayloadKind::Symlink(t) => CpKind::Symlink(t.clone()),
            };
            (e.path.clone(), kind, e.mode)
        })
        .collect();
    CpPlan::from_ordered(list, dst_display, src_display)
}

/// The ops `cp -Rp TREE/. PREFIX` makes on an empty prefix, run by the cp
/// model over the recorded order, as a recorded process.
pub fn copy_trace(payload: &[PayloadEntry], dst_display: &str, src_display: &str) -> TraceSpec {
    let plan = cp_plan(
        payload,
        &format!("{}/.", dst_display.trim_end_matches('/')),
        src_display,
    );
    let job: Box<dyn Job> = Box::new(CpJob::new("cp", Arc::new(plan)));
    let mut fs = ModelFs::new();
    let trace = execute(vec![job], &[vec![]], &mut fs, &mut SerialScheduler, true);
    let ops = trace
        .events
        .into_iter()
        .map(|e| RecordedOp {
            op: e.op,
            result: match e.result {
                Ok(Value::Fd(fd)) => RecordedResult::Ok(i64::from(fd)),
                Ok(Value::Written(n)) => RecordedResult::Ok(n as i64),
                Ok(_) => RecordedResult::Ok(0),
                Err(errno) => RecordedResult::Err(errno),
            },
        })
        .collect();
    let exit = match trace.outcomes.first().map(|o| &o.end) {
        Some(JobEnd::Exited(code)) => *code,
        _ => 1,
    };
    TraceSpec {
        program: TraceProgram::Cp,
        argv: vec![
            "cp".into(),
            "-Rp".into(),
            src_display.to_string(),
            dst_display.to_string(),
        ],
        exit,
        ops,
    }
}
