//! The state graph (`harness/src/state_graph.rs`) decides executions
//! without running them, and exactly as running them would: on recorded
//! scenarios, under random and PCT, every execution walked through the
//! graph stops at the same known tail, after the same steps, as the same
//! execution run op by op against the model; every execution the graph
//! cannot decide runs to the same end with the same picks.

use std::sync::Arc;

use prefixrace::internals::execution::Ran;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::state_graph::StateGraph;
use prefixrace::internals::tail::TailMemo;
use prefixrace::internals::Oracle;
use prefixrace::strategy::scenario_strategy;
use prefixrace::{SchedulerKind, Setup};

fn setup(file: &str, strategy: &str) -> Setup {
    let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let scenario = Arc::new(prefixrace::scenario::load(std::path::Path::new(&path)).expect(file));
    let strategy = scenario_strategy(strategy, &scenario).expect("a built-in strategy");
    Setup::new(scenario, strategy.as_ref()).unwrap()
}

/// What an execution came to, without how.
fn end(ran: &Ran) -> String {
    match ran {
        Ran::Known { tail, .. } => format!("known {tail:?}"),
        Ran::Complete { trace, tail } => format!(
            "complete {:?} {:?} {:?}",
            trace.schedule.choices, trace.outcomes, tail
        ),
    }
}

/// Runs `executions` of `setup` under `scheduler` twice each, through the
/// graph and op by op, and returns how many the graph decided alone.
fn compare(setup: &Setup, scheduler: SchedulerKind, executions: u64) -> u64 {
    let oracle = Oracle::new(setup).unwrap();
    let memo = TailMemo::default();
    // Never switched off: under PCT the graph does not pay here, but its
    // walks must still be exact.
    let mut graph = StateGraph::with_warm_up(StateGraph::DEFAULT_CAPACITY, u64::MAX);
    let steps = oracle.reference_steps();
    let mut walked = 0;
    for i in 0..executions {
        let run = |graph: Option<&mut StateGraph>| {
            let mut scheduler = scheduler.build(3, i, setup.job_count(), steps);
            let mut fs = FsKind::Model.fresh().unwrap();
            setup.run_with_tails(fs.as_mut(), scheduler.as_mut(), &memo, graph, None, false)
        };
        let through_graph = run(Some(&mut graph));
        let op_by_op = run(None);
        assert_eq!(
            end(&through_graph),
            end(&op_by_op),
            "{} under {}, {scheduler}, execution {i}",
            setup.scenario.name,
            setup.strategy
        );
        match op_by_op {
            Ran::Known { walked, .. } => assert!(!walked, "no graph, no walk"),
            Ran::Complete { trace, tail } => {
                if let (Some(tail), None) = (tail, &trace.aborted) {
                    let steps = trace.schedule.choices.len() - tail.at_step;
                    let judgement = Arc::new(oracle.judge(&trace));
                    memo.remember(tail.key, steps as u64, judgement, &[]);
                }
            }
        }
        if let Ran::Known { walked: true, .. } = through_graph {
            walked += 1;
        }
    }
    assert!(!graph.is_empty());
    walked
}

#[test]
fn walking_the_graph_ends_where_running_ends_on_the_cython_copy() {
    let setup = setup("sage-32361-upgrade.toml", "staged-copy");
    for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 3 }] {
        let walked = compare(&setup, scheduler, 400);
        // The first executions fill the graph in; most later ones walk it.
        assert!(walked > 100, "{scheduler}: only {walked} of 400 walked");
    }
}

#[test]
fn walking_the_graph_ends_where_running_ends_for_installers_and_traced_jobs() {
    for (file, strategy) in [
        ("sage-32361.toml", "direct-install"),
        ("namespace-backports.toml", "atomic-rename"),
        ("two-pips.toml", "direct-install"),
        ("sage-33060-two-pips.toml", "staged-copy"),
        ("sage-29585-backports.toml", "direct-install"),
    ] {
        let setup = setup(file, strategy);
        for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 2 }] {
            compare(&setup, scheduler, 60);
        }
    }
}

#[test]
fn recording_events_never_walks() {
    // A walk has no events to give, so counting pairs runs every execution.
    let setup = setup("sage-32361-upgrade.toml", "staged-copy");
    let memo = TailMemo::new(TailMemo::DEFAULT_CAPACITY, true);
    let oracle = Oracle::new(&setup).unwrap();
    let mut graph = StateGraph::default();
    for i in 0..50 {
        let mut scheduler =
            SchedulerKind::Random.build(3, i, setup.job_count(), oracle.reference_steps());
        let mut fs = FsKind::Model.fresh().unwrap();
        match setup.run_with_tails(
            fs.as_mut(),
            scheduler.as_mut(),
            &memo,
            Some(&mut graph),
            None,
            true,
        ) {
            Ran::Known { walked, .. } => assert!(!walked),
            Ran::Complete { trace, tail } => {
                let tail = tail.expect("one job is left at some point");
                let judgement = Arc::new(oracle.judge(&trace));
                let steps = trace.schedule.choices.len() - tail.at_step;
                memo.remember(
                    tail.key,
                    steps as u64,
                    judgement,
                    &trace.events[tail.at_step..],
                );
            }
        }
    }
}

/// Runs `executions` of `setup` under random scheduling through one judging
/// graph (as explorations do), checks each ends where running it op by op
/// ends, and returns the graph.
fn explore_with_judging_graph(setup: &Setup, executions: u64) -> StateGraph {
    let oracle = Oracle::new(setup).unwrap();
    let memo = TailMemo::default();
    let mut graph = StateGraph::new(StateGraph::DEFAULT_CAPACITY);
    let steps = oracle.reference_steps();
    for i in 0..executions {
        let run = |graph: Option<&mut StateGraph>| {
            let mut scheduler = SchedulerKind::Random.build(5, i, setup.job_count(), steps);
            let mut fs = FsKind::Model.fresh().unwrap();
            setup.run_with_tails(fs.as_mut(), scheduler.as_mut(), &memo, graph, None, false)
        };
        let through_graph = run(Some(&mut graph));
        let op_by_op = run(None);
        assert_eq!(end(&through_graph), end(&op_by_op), "execution {i}");
        if let Ran::Complete { trace, tail } = op_by_op {
            if let (Some(tail), None) = (tail, &trace.aborted) {
                let steps = trace.schedule.choices.len() - tail.at_step;
                memo.remember(tail.key, steps as u64, Arc::new(oracle.judge(&trace)), &[]);
            }
        }
    }
    graph
}

#[test]
fn a_graph_that_does_not_pay_switches_itself_off() {
    // Two long pips: executions never meet again before their tails, so
    // walking saves nothing and recording every decision point is waste.
    let graph = explore_with_judging_graph(&setup("sage-33060-two-pips.toml", "atomic-rename"), 14);
    let stats = graph.stats();
    assert!(!graph.is_on(), "{stats:?}");
    assert!(graph.is_empty(), "its memory is given back");
    assert!(stats.recorded >= StateGraph::WARM_UP && stats.saved < stats.recorded);
}

#[test]
fn a_graph_that_pays_stays_on() {
    // The one-step window: the copy runs alone after a short race, and most
    // executions are decided by walking.
    let graph = explore_with_judging_graph(&setup("sage-32361-upgrade.toml", "staged-copy"), 400);
    let stats = graph.stats();
    assert!(graph.is_on(), "{stats:?}");
    assert!(stats.saved > stats.recorded, "{stats:?}");
}
