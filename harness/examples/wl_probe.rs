use prefixrace::directed::{work_list, DirectedScheduler};
use prefixrace::fs::FsKind;
use prefixrace::{Oracle, Setup};
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sc = Arc::new(prefixrace::scenario::load(std::path::Path::new(&args[1])).unwrap());
    let strategies = if args[2] == "all" {
        prefixrace::strategy::scenario_strategies(&sc)
    } else {
        vec![prefixrace::strategy::scenario_strategy(&args[2], &sc).unwrap()]
    };
    let limit: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(200);
    for strategy in strategies {
        let setup = Setup::new(sc.clone(), strategy.as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let wl = work_list(&setup, limit).unwrap();
        let labels = setup.labels();
        println!(
            "{} targets={} pairs={} windows={}",
            strategy.name(),
            wl.len(),
            wl.pairs,
            wl.windows
        );
        let mut fails = 0;
        for (i, t) in wl.targets.iter().enumerate().take(limit) {
            let mut s = DirectedScheduler::new(t.clone());
            let mut fs = FsKind::Model.fresh_unkeyed().unwrap();
            let tr = setup.run(fs.as_mut(), &mut s, false);
            let j = oracle.judge(&tr);
            let f = j.failure.is_some();
            if f {
                fails += 1;
            }
            if f || i < 30 {
                println!(
                    "{i:4} {} hit={} tier={} {}",
                    if f { "FAIL" } else { "    " },
                    s.hit(),
                    t.tier,
                    t.describe(&labels)
                );
            }
        }
        println!("fails {fails} of {}", limit.min(wl.len()));
    }
}
