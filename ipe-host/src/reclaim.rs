//! Deferred reclamation of replaced versions (issue #15): a reader never runs a version's
//! destructor.
//!
//! A replaced [`PolicySet`] can be large (bundle, index, counters, a file mapping, thousands of
//! compiled functions): freeing it takes milliseconds and the allocator's and the kernel's
//! mapping locks. With plain reference counting the reader that drops the last reference pays
//! for it, on the request path. Instead the engine keeps a reference to every version it
//! replaces in a *retired* list, so a reader's reference is never the last one; a version is
//! freed only once the list's reference is the only one left (`Arc::strong_count == 1`, which
//! cannot go up again: the version is no longer reachable from the engine's pointer, so no
//! new reference can be made), by the writer on each swap or by the engine's reclaimer thread,
//! which sweeps the list every [`SWEEP_EVERY`] while it is not empty and sleeps otherwise.
//! arc-swap has no such facility (its `Guard`s only defer the reference count): when
//! `ArcSwap::swap` returns, it has converted every reader's borrowed guard of the old value
//! into a counted reference, which is what makes the count exact here.
//!
//! When the engine is dropped, it frees every retired version no reader holds; a version a
//! reader still holds (an `Arc` from `load_full`, a `Snapshot` or a `Reader` kept past the
//! engine) is then freed by that reader. A `Reader` (issue #15, session 18) is one more
//! holder: while it lives, the version it last loaded is not freed, and its refresh drops a
//! reference the retired list still shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::PolicySet;

/// How often the reclaimer thread looks for retired versions no reader holds any more.
pub const SWEEP_EVERY: Duration = Duration::from_millis(2);

#[derive(Debug, Default)]
struct State {
    retired: Vec<Arc<PolicySet>>,
    stop: bool,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    freed: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a valid list behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the retired versions no one else holds out of `state`, counting them as freed
    /// (the caller drops them once the lock is released).
    fn take_free(&self, state: &mut State) -> Vec<Arc<PolicySet>> {
        let (free, held): (Vec<_>, Vec<_>) = std::mem::take(&mut state.retired)
            .into_iter()
            .partition(|s| Arc::strong_count(s) == 1);
        state.retired = held;
        self.freed.fetch_add(free.len() as u64, Ordering::Relaxed);
        free
    }

    /// Frees the retired versions no reader holds (outside the lock); returns how many.
    fn sweep(&self) -> usize {
        let free = self.take_free(&mut self.lock());
        let n = free.len();
        drop(free);
        n
    }

    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if state.stop {
                return;
            }
            state = if state.retired.is_empty() {
                self.wake.wait(state).unwrap_or_else(|e| e.into_inner())
            } else {
                self.wake
                    .wait_timeout(state, SWEEP_EVERY)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            };
            if state.stop {
                return;
            }
            let free = self.take_free(&mut state);
            if !free.is_empty() {
                drop(state);
                drop(free);
                state = self.lock();
            }
        }
    }
}

/// An engine's retired versions and the thread that frees them (started on the first version
/// the writer could not free at once).
#[derive(Debug, Default)]
pub(crate) struct Reclaimer {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Reclaimer {
    /// Takes the engine's reference to a replaced version and frees every retired version no
    /// reader holds any more (on the calling thread, the writer's).
    pub(crate) fn retire(&self, old: Arc<PolicySet>) {
        let free = {
            let mut state = self.inner.lock();
            state.retired.push(old);
            let free = self.inner.take_free(&mut state);
            if !state.retired.is_empty() {
                self.inner.wake.notify_one();
            }
            free
        };
        drop(free);
        if self.inner.lock().retired.is_empty() {
            return;
        }
        let mut thread = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if thread.is_none() {
            let inner = Arc::clone(&self.inner);
            // Without a thread (spawning failed) the writer's sweeps and `reclaim` still free
            // versions; nothing is ever freed on a reader.
            *thread = std::thread::Builder::new()
                .name("ipe-reclaim".into())
                .spawn(move || inner.serve())
                .ok();
        }
    }

    /// Frees the retired versions no reader holds now; returns how many.
    pub(crate) fn reclaim(&self) -> usize {
        self.inner.sweep()
    }

    /// Versions replaced and not freed yet (some reader still holds them).
    pub(crate) fn retired(&self) -> usize {
        self.inner.lock().retired.len()
    }

    /// Versions freed (or being freed) so far by the writer or the reclaimer.
    pub(crate) fn freed(&self) -> u64 {
        self.inner.freed.load(Ordering::Relaxed)
    }

    /// Stops the thread and frees what no reader holds (the engine is being dropped); the
    /// engine's references to the rest are released, so their last reader frees them.
    pub(crate) fn shutdown(&self) {
        self.inner.lock().stop = true;
        self.inner.wake.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = handle {
            let _ = t.join();
        }
        self.inner.sweep();
        let rest = std::mem::take(&mut self.inner.lock().retired);
        drop(rest);
    }
}

/// Test support: how many versions each thread freed.
#[cfg(test)]
pub(crate) mod probe {
    use std::cell::Cell;

    thread_local! {
        static FREED_HERE: Cell<u64> = const { Cell::new(0) };
    }

    /// Versions whose destructor ran on the calling thread so far.
    pub(crate) fn freed_here() -> u64 {
        FREED_HERE.with(Cell::get)
    }

    /// Called from `PolicySet`'s destructor.
    pub(crate) fn on_free() {
        FREED_HERE.with(|c| c.set(c.get() + 1));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};

    use super::probe;
    use crate::{EngineOptions, JitTier, PolicyEngine, TierMode};

    fn bundle(source: &str) -> Vec<u8> {
        let program = ipe_compile::compile_str(&[("test.ipe", source)]).expect("source compiles");
        ipe_compile::lower::lower(&program)
            .expect("program lowers")
            .bytes
    }

    fn versions() -> (Vec<u8>, Vec<u8>) {
        let src = |effect: &str| {
            format!(
                "schema {{\n  kind: string\n  n: int\n}}\ndefault {effect}\n\
                 policy P:\n  \"p\"\n  triggers when kind == \"a\"\n  requires\n    n > 3\n"
            )
        };
        (bundle(&src("allow")), bundle(&src("deny")))
    }

    fn options() -> Vec<EngineOptions> {
        vec![
            EngineOptions::interpreter(),
            EngineOptions::jit_all(JitTier::Baseline),
            EngineOptions::adaptive(1, u64::MAX),
        ]
    }

    #[test]
    fn a_reader_holding_a_version_across_a_swap_does_not_free_it() {
        let (a, b) = versions();
        for opts in options() {
            let engine = Arc::new(PolicyEngine::with_options(a.clone(), opts).expect("loads"));
            let (held_tx, held_rx) = mpsc::channel();
            let (swapped_tx, swapped_rx) = mpsc::channel::<()>();
            let reader = {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let snapshot = engine.load();
                    let full = engine.load_full();
                    held_tx.send(()).expect("main waits");
                    swapped_rx.recv().expect("main swapped");
                    assert_eq!(snapshot.version(), 1);
                    assert_eq!(full.version(), 1);
                    // Under plain reference counting, the second of these drops freed
                    // version 1 on this thread.
                    drop(snapshot);
                    drop(full);
                    probe::freed_here()
                })
            };
            held_rx.recv().expect("reader holds version 1");
            assert_eq!(engine.swap(b.clone()).expect("swaps"), 2);
            assert_eq!(engine.retired_versions(), 1, "{opts:?}: held by the reader");
            assert_eq!(engine.stats().retired_versions, 1);
            swapped_tx.send(()).expect("reader waits");
            assert_eq!(reader.join().expect("reader"), 0, "{opts:?}");
            engine.reclaim();
            assert_eq!(
                engine.retired_versions(),
                0,
                "{opts:?}: freed off the reader"
            );
            assert_eq!(engine.stats().freed_versions, 1, "{opts:?}");
        }
    }

    /// Issue #15, session 18: a `Reader` sees each publish at its next load, keeps the version
    /// it holds alive until then (the retired list cannot free it), and its refresh never
    /// frees the version it let go of.
    #[test]
    fn a_cached_reader_follows_swaps_and_never_frees_a_version() {
        let (a, b) = versions();
        for opts in options() {
            let engine = Arc::new(PolicyEngine::with_options(a.clone(), opts).expect("loads"));
            let (held_tx, held_rx) = mpsc::channel();
            let (swapped_tx, swapped_rx) = mpsc::channel::<()>();
            let thread = {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let mut reader = engine.reader();
                    assert_eq!(reader.load().version(), 1);
                    held_tx.send(()).expect("main waits");
                    swapped_rx.recv().expect("main swapped");
                    // The refresh drops version 1's reference on this thread.
                    let set = reader.load();
                    let version = set.version();
                    let effect = set
                        .evaluate_json(r#"{"kind":"b","n":1}"#)
                        .expect("evaluates")
                        .effect;
                    (version, effect, probe::freed_here())
                })
            };
            held_rx.recv().expect("reader holds version 1");
            assert_eq!(engine.swap(b.clone()).expect("swaps"), 2);
            engine.reclaim();
            assert_eq!(engine.retired_versions(), 1, "{opts:?}: held by the reader");
            swapped_tx.send(()).expect("reader waits");
            let (version, effect, freed) = thread.join().expect("reader");
            assert_eq!(version, 2, "{opts:?}");
            // Version 2 denies by default: the reader decided on it.
            assert_eq!(effect, ipe_nostd::Effect::Deny, "{opts:?}");
            assert_eq!(freed, 0, "{opts:?}: the reader freed a version");
            engine.reclaim();
            assert_eq!(engine.retired_versions(), 0, "{opts:?}");
            assert_eq!(engine.stats().freed_versions, 1, "{opts:?}");
        }
    }

    #[test]
    fn readers_never_run_a_version_destructor_under_swaps() {
        const SWAPS: u64 = 200;
        let (a, b) = versions();
        for opts in options() {
            let engine = Arc::new(PolicyEngine::with_options(a.clone(), opts).expect("loads"));
            let stop = Arc::new(AtomicBool::new(false));
            let readers: Vec<_> = (0..2)
                .map(|r| {
                    let engine = Arc::clone(&engine);
                    let stop = Arc::clone(&stop);
                    std::thread::spawn(move || {
                        let mut kept = Vec::new();
                        let mut n = 0u64;
                        // A cached reader too (issue #15, session 18): its refreshes drop the
                        // version it held on this thread.
                        let mut reader = engine.reader();
                        while !stop.load(Ordering::Relaxed) || n < 100 {
                            let set = engine.load();
                            let d = set
                                .evaluate_json(r#"{"kind":"a","n":1}"#)
                                .expect("evaluates");
                            assert_eq!(d.violations().len(), 1);
                            let d = reader
                                .evaluate_json(r#"{"kind":"a","n":1}"#)
                                .expect("evaluates");
                            assert_eq!(d.violations().len(), 1);
                            // Hold some versions across several swaps, as `Arc`s and as
                            // snapshots, and let go of them later on this thread.
                            if n % 7 == r {
                                kept.push((engine.load_full(), set));
                            }
                            if kept.len() > 4 {
                                kept.remove(0);
                            }
                            n += 1;
                        }
                        drop(kept);
                        probe::freed_here()
                    })
                })
                .collect();
            for i in 0..SWAPS {
                let bytes = if i % 2 == 0 { b.clone() } else { a.clone() };
                engine.swap(bytes).expect("swaps");
            }
            stop.store(true, Ordering::Relaxed);
            for r in readers {
                assert_eq!(
                    r.join().expect("reader"),
                    0,
                    "{opts:?}: a reader freed a version"
                );
            }
            engine.reclaim();
            let stats = engine.stats();
            assert_eq!(stats.retired_versions, 0, "{opts:?}");
            assert_eq!(stats.freed_versions, SWAPS, "{opts:?}");
            // The two bundles differ only in their default effect: every JIT-all version
            // after the first ran the first one's native code (issue #15), which readers
            // never freed either.
            if cfg!(feature = "jit") && opts.tier == TierMode::JitAll(JitTier::Baseline) {
                assert_eq!((stats.jit.compiled, stats.jit.reused), (0, 1), "{opts:?}");
            }
        }
    }
}
