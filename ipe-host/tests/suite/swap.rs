use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ipe_host::PolicyEngine;
use ipe_nostd::Effect;

use crate::common;

#[test]
fn readers_see_exactly_one_version_during_swaps() {
    const READERS: usize = 4;
    const SWAPS: u64 = 2_000;
    let (a, b) = (common::bundle(common::FREEZE), common::bundle(common::OPEN));
    let engine = Arc::new(PolicyEngine::from_bytes(a.clone()).expect("loads"));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let (mut seen_a, mut seen_b, mut total) = (0u64, 0u64, 0u64);
                let mut last_version = 0;
                while !stop.load(Ordering::Relaxed) || total < 1_000 {
                    let set = engine.load();
                    let d = set
                        .evaluate_json(r#"{"kind":"deploy"}"#)
                        .expect("never fails during a swap");
                    total += 1;
                    // Odd versions hold FREEZE, even ones OPEN; the decision must match the version.
                    let name = set.bundle().policy(d.matched()[0]).name;
                    if set.version() % 2 == 1 {
                        assert_eq!((d.effect, name), (Effect::Deny, "Freeze"));
                        seen_a += 1;
                    } else {
                        assert_eq!((d.effect, name), (Effect::Allow, "Open"));
                        seen_b += 1;
                    }
                    assert!(set.version() >= last_version, "versions never go back");
                    last_version = set.version();
                }
                (seen_a, seen_b, total)
            })
        })
        .collect();
    for i in 0..SWAPS {
        let bytes = if i % 2 == 0 { b.clone() } else { a.clone() };
        assert_eq!(engine.swap(bytes).expect("valid bundle"), i + 2);
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for r in readers {
        let (seen_a, seen_b, n) = r.join().expect("reader thread");
        assert_eq!(seen_a + seen_b, n, "every decision matched one version");
        total += n;
    }
    assert!(total >= (READERS as u64) * 1_000);
    assert_eq!(engine.version(), SWAPS + 1);
    // The last swap published the expected bundle.
    let live = engine.load();
    assert_eq!(
        live.bundle().policy(0).name,
        if SWAPS.is_multiple_of(2) {
            "Freeze"
        } else {
            "Open"
        }
    );
}
