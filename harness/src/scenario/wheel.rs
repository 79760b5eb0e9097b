//! Wheels (`.whl`): the RECORD gives the order and the expected hashes, the
//! zip members give the real bytes and executable bits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::allowance::PackageAllowance;
use super::entry_points::parse_entry_points;
use super::record::{parse_record_within, split_csv};
use super::zip_directory::central_directory_names;
use super::Package;
use crate::error::{Error, Result};
use crate::limits::{
    is_too_large, read_bounded, MAX_FILE_SIZE, MAX_INPUT_FILE, MAX_SCENARIO_ENTRIES,
};

/// How much of a wheel to check against its RECORD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WheelCheck {
    /// As pip does: every member listed in RECORD has its size and hash, no
    /// member is missing from RECORD, no name is held twice.
    Verify,
    /// `--no-verify`: sizes and hashes are not compared (members still may
    /// not inflate past the file limit, and unlisted or duplicate members
    /// are still refused).
    NoVerify,
}

/// Reads a wheel into a package whose payload holds the real member bytes, in
/// RECORD order, checked against the RECORD as pip checks it.
pub fn read_wheel(path: &Path, site_packages: &str) -> Result<Package> {
    read_wheel_with(path, site_packages, WheelCheck::Verify)
}

/// [`read_wheel`], with the checks `check` asks for.
pub fn read_wheel_with(path: &Path, site_packages: &str, check: WheelCheck) -> Result<Package> {
    read_wheel_within(path, site_packages, check, &PackageAllowance::standalone())
}

/// [`read_wheel_with`] for a package that may hold at most `allowance`:
/// the member count and the sizes RECORD declares are checked against it
/// before a member is inflated, and no member inflates past what is left.
pub(crate) fn read_wheel_within(
    path: &Path,
    site_packages: &str,
    check: WheelCheck,
    allowance: &PackageAllowance,
) -> Result<Package> {
    let shown = path.display().to_string();
    let file = crate::limits::open_regular(path).map_err(|e| Error::io(&shown, &e))?;
    let mut directory = file.try_clone().map_err(|e| Error::io(&shown, &e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::input(&shown, 0, "zip", format!("not a readable wheel: {e}")))?;
    let names = central_directory_names(
        &mut directory,
        zip.central_directory_start(),
        MAX_SCENARIO_ENTRIES,
    )
    .map_err(|e| Error::input(&shown, 0, "zip", format!("not a readable wheel: {e}")))?;
    let mut seen = BTreeSet::new();
    for name in &names {
        let shown_name = String::from_utf8_lossy(name);
        if let Some(c) = crate::fs::control_character(&shown_name) {
            return Err(Error::input(
                &shown,
                0,
                "member",
                format!("member {shown_name:?} holds the control character {c:?}"),
            ));
        }
        if !seen.insert(name.as_slice()) {
            return Err(Error::input(
                &shown,
                0,
                String::from_utf8_lossy(name),
                "the wheel holds two members of this name",
            ));
        }
    }
    let record_name = zip
        .file_names()
        .find(|k| k.ends_with(".dist-info/RECORD") && k.matches('/').count() == 1)
        .map(str::to_string)
        .ok_or_else(|| Error::input(&shown, 0, "RECORD", "the wheel has no .dist-info/RECORD"))?;
    let record_file = format!("{shown}!{record_name}");
    let record_bytes = read_member(&mut zip, &record_name, MAX_INPUT_FILE)
        .map_err(|e| Error::input(&shown, 0, &record_name, format!("cannot read member: {e}")))?
        .0;
    let listed = record_lines(&record_bytes);
    let listed_names: BTreeSet<&str> = listed.iter().map(|l| l.rel.as_str()).collect();
    for name in zip.file_names() {
        let signature = |ext: &str| name.strip_suffix(ext) == Some(record_name.as_str());
        if !name.ends_with('/')
            && !listed_names.contains(name)
            && name != record_name
            && !signature(".jws")
            && !signature(".p7s")
        {
            return Err(Error::input(
                &record_file,
                0,
                name,
                "the wheel holds a member its RECORD does not list",
            ));
        }
    }
    if let Some(over) = allowance.over_entries(listed.len()) {
        return Err(Error::input(&record_file, 0, "record", over));
    }
    let mut declared = 0u64;
    for l in &listed {
        declared = declared.saturating_add(l.size.unwrap_or(0));
        if let Some(over) = allowance.over_bytes(declared) {
            return Err(Error::input(&record_file, l.line, "size", over));
        }
    }
    let mut members: BTreeMap<String, (Vec<u8>, u32)> = BTreeMap::new();
    let mut read = 0u64;
    for l in &listed {
        if l.rel == record_name || zip.index_for_name(&l.rel).is_none() {
            continue;
        }
        let limit = match (check, l.size) {
            (WheelCheck::Verify, Some(size)) => size.min(MAX_FILE_SIZE),
            _ => MAX_FILE_SIZE,
        };
        // Unverified sizes are not trusted: what is left bounds the read.
        let left = allowance.bytes.saturating_sub(read);
        let member = read_member(&mut zip, &l.rel, limit.min(left)).map_err(|e| {
            let MemberError::TooLarge = e else {
                return Error::input(
                    &record_file,
                    l.line,
                    &l.rel,
                    format!("cannot read member: {e}"),
                );
            };
            let message = match allowance.over_bytes(allowance.bytes.saturating_add(1)) {
                Some(over) if left < limit => over,
                _ => format!(
                    "{:?} inflates past {limit} bytes (its RECORD size, or the file limit)",
                    l.rel
                ),
            };
            Error::input(&record_file, l.line, "size", message)
        })?;
        if check == WheelCheck::Verify {
            l.verify(&record_file, &member.0)?;
        }
        read = read.saturating_add(member.0.len() as u64);
        members.insert(l.rel.clone(), member);
    }
    let lookup = |rel: &str| members.get(rel).map(|(b, _)| b.clone());
    let mut payload = parse_record_within(
        &record_file,
        &record_bytes,
        site_packages,
        Some(&lookup),
        allowance,
    )?;
    for (entry, l) in payload.iter_mut().zip(&listed) {
        if let Some((_, mode)) = members.get(&l.rel) {
            if mode & 0o111 != 0 {
                entry.mode = 0o755;
            }
        } else if l.rel != record_name {
            return Err(Error::input(
                &record_file,
                l.line,
                &l.rel,
                "RECORD lists a file the wheel does not contain",
            ));
        }
    }
    let entry_points_name = record_name.replace("/RECORD", "/entry_points.txt");
    let scripts = match members.get(&entry_points_name) {
        Some((bytes, _)) => parse_entry_points(&format!("{shown}!{entry_points_name}"), bytes)?,
        None => Vec::new(),
    };
    let base = record_name
        .trim_end_matches("/RECORD")
        .trim_end_matches(".dist-info");
    let (name, version) = base
        .split_once('-')
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .unwrap_or((base.to_string(), String::new()));
    Ok(Package {
        name,
        version,
        payload,
        after: Vec::new(),
        compile: true,
        scripts,
    })
}

/// Why a member could not be read.
#[derive(Debug)]
enum MemberError {
    /// It inflates past the limit it was read with.
    TooLarge,
    /// Its data is unreadable (an i/o error, bad compression), with why.
    Unreadable(String),
}

impl std::fmt::Display for MemberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberError::TooLarge => write!(f, "it inflates past its limit"),
            MemberError::Unreadable(why) => write!(f, "{why}"),
        }
    }
}

/// Reads member `name` whole, at most `limit` bytes (one more is
/// [`MemberError::TooLarge`]); returns its bytes and mode.
fn read_member(
    zip: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    limit: u64,
) -> std::result::Result<(Vec<u8>, u32), MemberError> {
    let entry = zip
        .by_name(name)
        .map_err(|e| MemberError::Unreadable(e.to_string()))?;
    let mode = entry.unix_mode().unwrap_or(0o644);
    let bytes = read_bounded(entry, limit).map_err(|e| {
        if is_too_large(&e) {
            MemberError::TooLarge
        } else {
            MemberError::Unreadable(e.to_string())
        }
    })?;
    Ok((bytes, mode))
}

/// One line of a RECORD, as the wheel checks need it (the payload itself
/// comes from [`parse_record`](super::record::parse_record), which validates every field).
struct RecordLine {
    line: usize,
    rel: String,
    hash: String,
    size: Option<u64>,
}

impl RecordLine {
    /// Checks `bytes` against the line's size and hash, as pip does.
    fn verify(&self, record_file: &str, bytes: &[u8]) -> Result<()> {
        if let Some(size) = self.size {
            if bytes.len() as u64 != size {
                return Err(Error::input(
                    record_file,
                    self.line,
                    "size",
                    format!(
                        "{:?} is {} bytes, RECORD says {size}",
                        self.rel,
                        bytes.len()
                    ),
                ));
            }
        }
        let Some((algo, expected)) = self.hash.split_once('=') else {
            return Ok(());
        };
        let actual = match algo {
            "sha256" => URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)),
            "sha384" => URL_SAFE_NO_PAD.encode(Sha384::digest(bytes)),
            "sha512" => URL_SAFE_NO_PAD.encode(Sha512::digest(bytes)),
            _ => return Ok(()),
        };
        if actual != expected.trim_end_matches('=') {
            return Err(Error::input(
                record_file,
                self.line,
                "hash",
                format!("{:?}: its {algo} differs from RECORD's", self.rel),
            ));
        }
        Ok(())
    }
}

/// The lines of a RECORD (its format already checked by [`parse_record`](super::record::parse_record)
/// or about to be: a line that does not parse is left out here).
fn record_lines(bytes: &[u8]) -> Vec<RecordLine> {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let fields = split_csv(l);
            let field = |k: usize| fields.get(k).cloned().unwrap_or_default();
            RecordLine {
                line: i + 1,
                rel: field(0),
                hash: field(1),
                size: field(2).parse().ok(),
            }
        })
        .collect()
}
