//! A new installer written on the kit, as docs/installers.md shows it: a
//! tool that installs each version into its own directory and switches a
//! `current` symlink, raced by a program that runs the tool through the
//! link. Replacing the link in place (unlink, then symlink) leaves a
//! window with no link; a temporary link renamed over it leaves none.

use prefixrace::kit::{LockKind, RemoveStyle, Script, SymlinkHow, WriteHow};
use prefixrace::{Check, Scenario};

/// The installer: unpack `version` into `opt/tool-VERSION`, then point
/// `opt/tool` at it the way `how` says.
fn switch_install(version: &str, how: SymlinkHow) -> Script {
    let dir = format!("opt/tool-{version}");
    Script::new("ln")
        .write_tree(
            &dir,
            &[("bin/run", b"#!/bin/sh\n".as_slice())],
            WriteHow::InPlace,
        )
        .symlink(&format!("tool-{version}"), "opt/tool", how)
}

/// A program that runs the tool through the link, once it exists.
fn runner() -> Script {
    Script::new("node")
        .wait_for("opt/tool/bin/run")
        .read("opt/tool/bin/run")
        .saying("Error: Cannot find module '{path}'")
}

/// Version 1 is installed; version 2 switches the link while the runner runs.
fn upgrade(how: SymlinkHow) -> Scenario {
    Scenario::builder("switch-install")
        .prefix("/usr/local")
        .script("install-1", switch_install("1", SymlinkHow::Create))
        .script("install-2", switch_install("2", how))
        .after("install-1")
        .script("runner", runner())
        .after("install-1")
        .build()
        .unwrap()
}

#[test]
fn replacing_the_link_in_place_leaves_a_window() {
    let race = Check::new(upgrade(SymlinkHow::UnlinkThenCreate))
        .strategy("direct-install")
        .find_race()
        .expect("the runner falls into the window with no link");
    assert!(race
        .to_string()
        .contains("Error: Cannot find module '/usr/local/opt/tool/bin/run'"));
}

#[test]
fn renaming_a_temporary_link_over_it_leaves_none() {
    let report = Check::new(upgrade(SymlinkHow::TempThenRename))
        .strategy("direct-install")
        .prove();
    assert!(report.is_proof());
}

/// Version 2 unpacked beside the tree and swapped in over it, while the
/// runner runs the tool: `swap` says how.
fn swap_upgrade(swap: fn(Script) -> Script) -> Scenario {
    let install = |version: &str| {
        Script::new("ln").write_tree(
            &format!("opt/.new-{version}"),
            &[("bin/run", b"#!/bin/sh\n".as_slice())],
            WriteHow::InPlace,
        )
    };
    Scenario::builder("swap-install")
        .prefix("/usr/local")
        .script("install-1", install("1").rename("opt/.new-1", "opt/tool"))
        .script("install-2", swap(install("2")))
        .after("install-1")
        .script("runner", runner())
        .after("install-1")
        .build()
        .unwrap()
}

#[test]
fn renaming_the_old_tree_aside_leaves_a_window_and_an_exchange_none() {
    let aside = Check::new(swap_upgrade(|s| s.swap_in("opt/.new-2", "opt/tool")))
        .strategy("direct-install")
        .find_race();
    assert!(aside.is_some(), "the runner falls between the two renames");
    let report = Check::new(swap_upgrade(|s| s.exchange_in("opt/.new-2", "opt/tool")))
        .strategy("direct-install")
        .prove();
    assert!(report.is_proof(), "{report}");
}

/// Homebrew issue 1155: keg locks are `flock`s on lock files, and a
/// cleanup that deletes a held lock file does not release the lock: the
/// next brew creates a new file of that name, another inode, and locks it
/// at once, so two brews hold "the" lock and one removes the keg the
/// other is filling. Without the cleanup the lock orders them.
fn brew_upgrade(with_cleanup: bool) -> Scenario {
    let brew = |version: &str| {
        Script::new("brew")
            .makedirs("var/homebrew/locks")
            .lock("var/homebrew/locks/foo.formula.lock", LockKind::Flock)
            .remove("Cellar/foo", RemoveStyle::RmRf)
            .write_tree(
                &format!("Cellar/foo/{version}"),
                &[
                    ("bin/foo", b"#!/bin/sh\n".as_slice()),
                    ("INSTALL_RECEIPT.json", b"{}".as_slice()),
                ],
                WriteHow::InPlace,
            )
            .unlock("var/homebrew/locks/foo.formula.lock", LockKind::Flock)
    };
    let mut builder = Scenario::builder("brew-1155")
        .prefix("/opt/homebrew")
        .script("brew-1", brew("1"))
        .script("brew-2", brew("1"));
    if with_cleanup {
        builder = builder.script(
            "cleanup",
            Script::new("brew").remove("var/homebrew/locks/foo.formula.lock", RemoveStyle::RmRf),
        );
    }
    builder.build().unwrap()
}

#[test]
fn deleting_a_held_flock_file_lets_a_second_holder_in() {
    let report = Check::new(brew_upgrade(false))
        .strategy("direct-install")
        .prove();
    assert!(report.is_proof(), "{report}");
    assert!(
        Check::new(brew_upgrade(true))
            .strategy("direct-install")
            .find_race()
            .is_some(),
        "two brews hold the lock once its file is deleted"
    );
}
